import type { ParsedLog, ParseOptions, TestStatus } from './_parse-types.ts';
import { emptyLog, jsTestNames, recordTest, relativePath, testId } from './_parse-shared.ts';

const JEST_FILE = /^(PASS|FAIL) (\S+)(?: \(\d[^)]*\))?$/;
const JEST_TEST = /^(✓|✕|○|✎|√|×) (.*?)(?: \(\d+(?:\.\d+)? ?m?s\))?$/;
const JEST_STATUS: Record<string, TestStatus> = { '✓': 'PASSED', '√': 'PASSED', '✕': 'FAILED', '×': 'FAILED', '○': 'SKIPPED', '✎': 'SKIPPED' };
const JEST_SUMMARY = /^Tests:\s+.*\btotal$/;

/**
 * jest `--verbose` (stderr): per file a `PASS`/`FAIL` line, then the tree of suites (by
 * indentation) and tests (`✓`, `✕`, `○ skipped`, `✎ todo`) up to the first blank line. The
 * `● suite › title` sections after it are the runner's word: those tests failed, whatever a line
 * printed elsewhere said. `● Test suite failed to run` is an ERROR under the file's id.
 * Console output (a blank line away from any tree) is never read as a test.
 */
export function parseJestVerbose(log: string, options: ParseOptions): ParsedLog {
  const parsed = emptyLog();
  let file: string | undefined;
  let inTree = false;
  let suites: { indent: number; name: string }[] = [];
  for (const raw of log.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const header = JEST_FILE.exec(line);
    if (header) {
      file = relativePath(header[2]!, options.root);
      inTree = true;
      suites = [];
      parsed.reportFound = true;
      continue;
    }
    if (JEST_SUMMARY.test(line)) {
      parsed.reportFound = true;
      file = undefined;
      continue;
    }
    if (file === undefined) continue;
    if (line === '') {
      inTree = false;
      continue;
    }
    const indent = line.length - line.trimStart().length;
    const body = line.trimStart();
    // Failure details sit two spaces in; deeper `●` lines are the test's own output.
    if (indent === 2 && body.startsWith('● ')) {
      const title = body.slice(2);
      if (title === 'Test suite failed to run') recordTest(parsed, file, 'ERROR');
      else {
        const parts = title.split(' › ');
        recordTest(parsed, testId([file, ...parts]), 'FAILED', { ...jsTestNames(file, parts.slice(0, -1), parts.at(-1)!), swebench: parts.at(-1)! });
      }
      continue;
    }
    if (!inTree || indent < 2) continue;
    suites = suites.filter((suite) => suite.indent < indent);
    const test = JEST_TEST.exec(body);
    if (!test) {
      suites.push({ indent, name: body });
      continue;
    }
    const symbol = test[1]!;
    let title = test[2]!;
    if (symbol === '○') title = title.replace(/^skipped /, '');
    if (symbol === '✎') title = title.replace(/^todo /, '');
    const names = suites.map((suite) => suite.name);
    recordTest(parsed, testId([file, ...names, title]), JEST_STATUS[symbol]!, { ...jsTestNames(file, names, title), swebench: title });
  }
  return parsed;
}

const VITEST_TEST = /^(✓|×|✗|↓|□|√) (.+?)(?: \d+(?:\.\d+)?\s?m?s)?(?: \[skipped\])?$/;
const VITEST_STATUS: Record<string, TestStatus> = { '✓': 'PASSED', '√': 'PASSED', '×': 'FAILED', '✗': 'FAILED', '↓': 'SKIPPED', '□': 'SKIPPED' };
const VITEST_FAIL = /^FAIL {1,2}(.+?)(?: \[ (.+) \])?$/;
const VITEST_SUMMARY = /^(Test Files|Tests) {2}.*\(\d+\)$/;

/**
 * vitest `--reporter=verbose`: one line a test, `✓ file > suite > title 3ms` (`×` failed, `↓`
 * skipped, `□` todo). A file's own summary line (`file (5 tests)`) is not a test. The
 * `FAIL file > suite > title` sections after the run are the runner's word; `FAIL file [ file ]`
 * is a file that failed to load, an ERROR under the file's id.
 */
export function parseVitestVerbose(log: string, options: ParseOptions): ParsedLog {
  const parsed = emptyLog();
  const record = (path: string, status: TestStatus) => {
    const parts = path.split(' > ');
    const file = /\.[cm]?[jt]sx?$/.test(parts[0]!) && parts.length > 1 ? relativePath(parts.shift()!, options.root) : undefined;
    const title = parts.pop()!;
    const names = jsTestNames(file, parts, title);
    recordTest(parsed, testId([file, ...parts, title]), status, { ...names, swebench: names.vitestLine });
  };
  for (const raw of log.split(/\r?\n/)) {
    const body = raw.trim();
    if (VITEST_SUMMARY.test(body) || /^RUN {1,2}v\d/.test(body)) {
      parsed.reportFound = true;
      continue;
    }
    const failed = VITEST_FAIL.exec(body);
    if (failed) {
      if (failed[2] !== undefined) recordTest(parsed, relativePath(failed[2], options.root), 'ERROR');
      else record(failed[1]!, 'FAILED');
      continue;
    }
    const test = VITEST_TEST.exec(body);
    if (!test || /\(\d+ tests?(?: \|[^)]*)?\)$/.test(test[2]!)) continue;
    record(test[2]!, VITEST_STATUS[test[1]!]!);
  }
  return parsed;
}
