import type { ParsedLog, ParseOptions, TestStatus } from './_parse-types.ts';
import { arrayField, emptyLog, isRecord, jsTestNames, locateJsonReport, recordTest, relativePath, stringField, testId } from './_parse-shared.ts';

const ASSERTION_STATUS: Record<string, TestStatus> = {
  passed: 'PASSED',
  failed: 'FAILED',
  pending: 'SKIPPED',
  skipped: 'SKIPPED',
  todo: 'SKIPPED',
  disabled: 'SKIPPED',
  focused: 'PASSED',
};

/**
 * jest `--json` and vitest `--reporter=json` (same shape). Id: file::ancestorTitles::title.
 * A file that failed without a failing test (it did not load, or a hook threw) is an ERROR
 * under the file's own id.
 */
export function parseJestJson(log: string, options: ParseOptions, runner: 'jest' | 'vitest' = 'jest'): ParsedLog {
  const { report, tamperReason } = locateJsonReport(log, /\{\s*"num[A-Za-z]+"\s*:/, (value) => isRecord(value) && Array.isArray(value.testResults));
  const parsed: ParsedLog = { ...emptyLog(), ...(tamperReason === undefined ? {} : { tamperReason }) };
  if (!isRecord(report)) return parsed;
  parsed.reportFound = true;
  for (const fileResult of arrayField(report, 'testResults')) {
    if (!isRecord(fileResult)) continue;
    const name = stringField(fileResult, 'name');
    const file = name === undefined ? undefined : relativePath(name, options.root);
    let anyFailed = false;
    for (const assertion of arrayField(fileResult, 'assertionResults')) {
      if (!isRecord(assertion)) continue;
      const ancestors = arrayField(assertion, 'ancestorTitles').filter((title): title is string => typeof title === 'string');
      const title = stringField(assertion, 'title') ?? '';
      const status = ASSERTION_STATUS[stringField(assertion, 'status') ?? ''] ?? 'FAILED';
      if (status === 'FAILED') anyFailed = true;
      const names = jsTestNames(file, ancestors, title, stringField(assertion, 'fullName'));
      // SWE-bench reads jest's verbose bare titles and vitest's verbose `file > suite > title` lines.
      recordTest(parsed, testId([file, ...ancestors, title]), status, { ...names, swebench: runner === 'jest' ? title : names.vitestLine });
    }
    if (file !== undefined && stringField(fileResult, 'status') === 'failed' && !anyFailed) {
      recordTest(parsed, file, 'ERROR');
    }
  }
  return parsed;
}

