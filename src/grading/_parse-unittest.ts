import type { ParsedLog, TestStatus } from './_parsers.ts';
import { recordStatus, testId } from './_parse-shared.ts';

// `test_a (tests.test_x.TestC.test_a)` (3.11+) or `test_a (tests.test_x.TestC)` (3.10 and older),
// then subtest parameters, then ` ... status` unless a docstring line follows first.
const RESULT_LINE = /^\s*(\S+) \(([A-Za-z_][\w.]*)\)(.*)$/;
const STATUS_TEXT = /^(ok|FAIL|ERROR|expected failure|unexpected success|skipped(?: .*)?)$/;
const DESCRIBED_STATUS = /^.*? \.\.\. (ok|FAIL|ERROR|expected failure|unexpected success|skipped(?: .*)?)$/;
const FAILURE_BLOCK = /^(FAIL|ERROR|UNEXPECTED SUCCESS): (\S+) \(([A-Za-z_][\w.]*)\)/;

/**
 * `python -m unittest -v` (stderr). Id: tests/test_x.py::TestC::test_a. The FAIL/ERROR blocks
 * printed after the run are read too: they are the runner's word, so a test that prints a fake
 * `... ok` line still ends up failed (a test reported twice keeps its worst status).
 */
export function parseUnittest(log: string): ParsedLog {
  const lines = log.split(/\r?\n/);
  const tests = new Map<string, TestStatus>();
  let reportFound = false;
  let pending: string | undefined;

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trimEnd();
    if (/^Ran \d+ tests? in /.test(line)) {
      reportFound = true;
      pending = undefined;
      continue;
    }
    if (/^(=|-){20,}$/.test(line)) {
      pending = undefined;
      const block = line.startsWith('=') ? FAILURE_BLOCK.exec(lines[i + 1] ?? '') : null;
      if (block) {
        recordStatus(tests, unittestId(block[2]!, block[3]!), block[1] === 'ERROR' ? 'ERROR' : 'FAILED');
        reportFound = true;
      }
      continue;
    }
    const result = RESULT_LINE.exec(line);
    if (result) {
      const id = unittestId(result[1]!, result[2]!);
      const rest = result[3]!;
      const subtest = /^ [([]/.test(rest);
      const dots = rest.indexOf(' ...');
      const statusText = dots < 0 ? undefined : rest.slice(dots + ' ...'.length).trim();
      if (statusText !== undefined && STATUS_TEXT.test(statusText)) {
        const status = statusOf(statusText);
        // A subtest's own pass or skip says nothing about its test; its failure fails the test.
        if (!subtest || status === 'FAILED' || status === 'ERROR') recordStatus(tests, id, status);
        reportFound = true;
      }
      pending = subtest ? pending : id;
      continue;
    }
    if (pending === undefined) continue;
    // The status of a test with a docstring, or after output the test printed, comes on a later line.
    const status = STATUS_TEXT.exec(line.trim())?.[1] ?? DESCRIBED_STATUS.exec(line)?.[1];
    if (status !== undefined) {
      recordStatus(tests, pending, statusOf(status));
      reportFound = true;
    }
  }
  return { tests, reportFound };
}

function statusOf(text: string): TestStatus {
  if (text === 'ok') return 'PASSED';
  if (text === 'ERROR') return 'ERROR';
  if (text === 'expected failure') return 'XFAIL';
  if (text.startsWith('skipped')) return 'SKIPPED';
  return 'FAILED'; // FAIL, unexpected success
}

function unittestId(name: string, qualified: string): string {
  // A module that failed to import (or was skipped whole) runs as a stand-in loader test named after it.
  if (qualified.startsWith('unittest.loader.')) return modulePath(name.split('.'));
  let segments = qualified.split('.');
  if (segments.length > 1 && segments.at(-1) === name) segments = segments.slice(0, -1);
  if (name === 'setUpModule' || name === 'tearDownModule') return testId([modulePath(segments), name]);
  let classStart = segments.findIndex((segment, index) => index > 0 && /^[A-Z]/.test(segment));
  if (classStart < 0) classStart = Math.max(1, segments.length - 1);
  return testId([modulePath(segments.slice(0, classStart)), ...segments.slice(classStart), name]);
}

function modulePath(segments: string[]): string {
  return `${segments.join('/')}.py`;
}
