import type { ParsedLog, TestStatus } from './_parse-types.ts';
import { emptyLog, recordTest, testId } from './_parse-shared.ts';

// `test_a (tests.test_x.TestC.test_a)` (3.11+) or `test_a (tests.test_x.TestC)` (3.10 and older),
// then subtest parameters, then ` ... status` unless a docstring line follows first.
const RESULT_LINE = /^\s*(\S+) \(([A-Za-z_][\w.]*)\)(.*)$/;
const STATUS_TEXT = /^(ok|FAIL|ERROR|expected failure|unexpected success|skipped(?: .*)?)$/;
const DESCRIBED_STATUS = /^(.*?) \.\.\. (ok|FAIL|ERROR|expected failure|unexpected success|skipped(?: .*)?)$/;
const FAILURE_BLOCK = /^(FAIL|ERROR|UNEXPECTED SUCCESS): (\S+) \(([A-Za-z_][\w.]*)\)/;

/**
 * `python -m unittest -v` (stderr). Id: tests/test_x.py::TestC::test_a. The FAIL/ERROR blocks
 * printed after the run are read too: they are the runner's word, so a test that prints a fake
 * `... ok` line still ends up failed (a test reported twice keeps its worst status).
 */
export function parseUnittest(log: string): ParsedLog {
  return parseVerboseUnittest(log, '');
}

/**
 * Django's `tests/runtests.py --verbosity 2`: unittest's verbose lines among Django's own
 * (migrations, system checks). Modules are named from `tests/`, so ids start there:
 * tests/admin_views/tests.py::AdminViewTests::test_a.
 */
export function parseDjango(log: string): ParsedLog {
  return parseVerboseUnittest(log, 'tests/');
}

/**
 * Names: `test_a (module.Class)` (Python 3.10 and older, Django's SWE-bench naming),
 * `test_a (module.Class.test_a)` (3.11+), `module.Class.test_a`, and the docstring line that
 * stands in for the name when the test has one.
 */
function parseVerboseUnittest(log: string, filePrefix: string): ParsedLog {
  const lines = log.split(/\r?\n/);
  const parsed = emptyLog();
  let pending: string | undefined;
  // SWE-bench's Django parser names a test by the text before ` ... `: the docstring line when there is one.
  const record = (id: { id: string; native: string[]; title: string; printed: string }, status: TestStatus, docstring?: string) =>
    recordTest(parsed, filePrefix + id.id, status, { native: [...id.native, id.printed, docstring], title: id.title, swebench: docstring ?? id.printed });
  const ids = new Map<string, ReturnType<typeof unittestId>>();
  const idOf = (name: string, qualified: string) => {
    const id = unittestId(name, qualified);
    ids.set(id.id, id);
    return id;
  };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trimEnd();
    if (/^Ran \d+ tests? in /.test(line)) {
      parsed.reportFound = true;
      pending = undefined;
      continue;
    }
    if (/^(=|-){20,}$/.test(line)) {
      pending = undefined;
      const block = line.startsWith('=') ? FAILURE_BLOCK.exec(lines[i + 1] ?? '') : null;
      if (block) {
        record(idOf(block[2]!, block[3]!), block[1] === 'ERROR' ? 'ERROR' : 'FAILED');
        parsed.reportFound = true;
      }
      continue;
    }
    const result = RESULT_LINE.exec(line);
    if (result) {
      const id = idOf(result[1]!, result[2]!);
      const rest = result[3]!;
      const subtest = /^ [([]/.test(rest);
      const dots = rest.indexOf(' ...');
      const statusText = dots < 0 ? undefined : rest.slice(dots + ' ...'.length).trim();
      if (statusText !== undefined && STATUS_TEXT.test(statusText)) {
        const status = statusOf(statusText);
        // A subtest's own pass or skip says nothing about its test; its failure fails the test.
        if (!subtest || status === 'FAILED' || status === 'ERROR') record(id, status);
        parsed.reportFound = true;
      }
      pending = subtest ? pending : id.id;
      continue;
    }
    if (pending === undefined) continue;
    // The status of a test with a docstring, or after output the test printed, comes on a later line.
    const described = DESCRIBED_STATUS.exec(line.trim());
    const status = STATUS_TEXT.exec(line.trim())?.[1] ?? described?.[2];
    if (status !== undefined) {
      record(ids.get(pending)!, statusOf(status), described?.[1]);
      parsed.reportFound = true;
      pending = undefined;
    }
  }
  return parsed;
}

function statusOf(text: string): TestStatus {
  if (text === 'ok') return 'PASSED';
  if (text === 'ERROR') return 'ERROR';
  if (text === 'expected failure') return 'XFAIL';
  if (text.startsWith('skipped')) return 'SKIPPED';
  return 'FAILED'; // FAIL, unexpected success
}

function unittestId(name: string, qualified: string): { id: string; native: string[]; title: string; printed: string } {
  const printed = `${name} (${qualified})`;
  const native = (owner: string) => [`${name} (${owner})`, `${name} (${owner}.${name})`, `${owner}.${name}`];
  // A module that failed to import (or was skipped whole) runs as a stand-in loader test named after it.
  if (qualified.startsWith('unittest.loader.')) return { id: modulePath(name.split('.')), native: [name], title: name, printed };
  let segments = qualified.split('.');
  if (segments.length > 1 && segments.at(-1) === name) segments = segments.slice(0, -1);
  const owner = segments.join('.');
  if (name === 'setUpModule' || name === 'tearDownModule') return { id: testId([modulePath(segments), name]), native: native(owner), title: name, printed };
  let classStart = segments.findIndex((segment, index) => index > 0 && /^[A-Z]/.test(segment));
  if (classStart < 0) classStart = Math.max(1, segments.length - 1);
  return { id: testId([modulePath(segments.slice(0, classStart)), ...segments.slice(classStart), name]), native: native(owner), title: name, printed };
}

function modulePath(segments: string[]): string {
  return `${segments.join('/')}.py`;
}
