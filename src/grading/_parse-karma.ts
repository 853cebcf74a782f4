import type { ParsedLog, TestStatus } from './_parse-types.ts';
import { emptyLog, recordTest, testId } from './_parse-shared.ts';

const TEST = /^(✔|✓|✖|✗) (.*?)(?: \((skipped|SKIPPED)\))?$/;

/**
 * karma with karma-mocha-reporter (or the spec reporter): after the browser starts, a tree of
 * suites (by indentation) and tests (`✔` passed, `✖` failed, `✖ title (skipped)`), up to
 * `SUMMARY:`. The `FAILED TESTS:` tree after it is the runner's word: those tests failed. A
 * test's own `console.log` reaches the log as `LOG: '...'` and is never read as a test.
 * Karma names no file, so an id is suites::title; SWE-bench's name is `suite > title`.
 */
export function parseKarma(log: string): ParsedLog {
  const parsed = emptyLog();
  let section: 'before' | 'tree' | 'summary' | 'failures' = 'before';
  let suites: { indent: number; name: string }[] = [];
  for (const raw of log.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (section === 'before') {
      if (/\bStarting browser\b/.test(line)) section = 'tree';
      continue;
    }
    if (line === 'SUMMARY:') {
      section = 'summary';
      parsed.reportFound = true;
      continue;
    }
    if (line === 'FAILED TESTS:' && section === 'summary') {
      section = 'failures';
      suites = [];
      continue;
    }
    if (section === 'summary' || line.trim() === '' || /^(LOG|WARN|ERROR|INFO|DEBUG):/.test(line.trim())) continue;
    const indent = line.length - line.trimStart().length;
    // Karma's own lines (timestamps, `Finished in`) start at the margin; the tree is indented.
    if (indent === 0) continue;
    suites = suites.filter((suite) => suite.indent < indent);
    const test = TEST.exec(line.trimStart());
    if (!test) {
      suites.push({ indent, name: line.trim() });
      continue;
    }
    const names = suites.map((suite) => suite.name);
    const title = test[2]!;
    const status: TestStatus = test[3] !== undefined ? 'SKIPPED' : test[1] === '✔' || test[1] === '✓' ? 'PASSED' : 'FAILED';
    // In the failure list only failures count; the lines under a test there are its error.
    if (section === 'failures' && status !== 'FAILED') continue;
    const swebench = [...names, title].join(' > ');
    recordTest(parsed, testId([...names, title]), status, { title, swebench, native: [swebench, [...names, title].join(' ')] });
  }
  return parsed;
}
