import type { ParsedLog, ParseOptions, TestStatus } from './_parse-types.ts';
import { arrayField, emptyLog, isRecord, locateJsonReport, recordTest, relativePath, stringField, testId } from './_parse-shared.ts';

/**
 * mocha `--reporter json`: `passes`, `failures` and `pending`, each test with `title`,
 * `fullTitle` and `file`. Mocha joins suite titles with spaces, so the suites form one id part:
 * file::fullTitle-minus-title::title. A failing hook is recorded as an ERROR under its own title.
 */
export function parseMochaJson(log: string, options: ParseOptions): ParsedLog {
  const { report, tamperReason } = locateJsonReport(
    log,
    /\{\s*"stats"\s*:/,
    (value) => isRecord(value) && Array.isArray(value.passes) && Array.isArray(value.failures),
  );
  const parsed: ParsedLog = { ...emptyLog(), ...(tamperReason === undefined ? {} : { tamperReason }) };
  if (!isRecord(report)) return parsed;
  parsed.reportFound = true;
  const groups: [string, TestStatus][] = [
    ['passes', 'PASSED'],
    ['pending', 'SKIPPED'],
    ['failures', 'FAILED'],
  ];
  for (const [key, status] of groups) {
    for (const test of arrayField(report, key)) {
      if (!isRecord(test)) continue;
      const title = stringField(test, 'title') ?? '';
      const fullTitle = stringField(test, 'fullTitle') ?? title;
      const suites = fullTitle.endsWith(title) ? fullTitle.slice(0, fullTitle.length - title.length).trim() : '';
      const file = stringField(test, 'file');
      const hook = /^"(before|after) (all|each)" hook/.test(title);
      const relative = file === undefined ? undefined : relativePath(file, options.root);
      recordTest(parsed, testId([relative, suites, title]), hook && status === 'FAILED' ? 'ERROR' : status, {
        title,
        native: [fullTitle, relative === undefined ? undefined : `${relative}->${fullTitle}`],
        polybench: fullTitle,
      });
    }
  }
  return parsed;
}
