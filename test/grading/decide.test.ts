import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decide } from '../../src/grading/_decide.ts';
import { parseTestLog } from '../../src/grading/_parsers.ts';
import type { TestStatus } from '../../src/grading/_parse-types.ts';
import type { LogParserName } from '../../src/tasks/index.ts';

const ROOT = '/work/repo';
const LOGS = fileURLToPath(new URL('../fixtures/logs/', import.meta.url));

function tests(entries: Record<string, TestStatus>): Map<string, TestStatus> {
  return new Map(Object.entries(entries));
}

/** A real log with the exit code its command really returned (recorded by regenerate.sh). */
function realRun(parser: LogParserName, name: string): ReturnType<typeof parseTestLog> & { exitCode: number } {
  const codes = readFileSync(`${LOGS}exit-codes.txt`, 'utf8');
  const line = codes.split('\n').find((entry) => entry.startsWith(`${name} `));
  if (line === undefined) throw new Error(`no exit code recorded for ${name}`);
  const parsed = parseTestLog(parser, readFileSync(`${LOGS}${name}`, 'utf8'), { root: ROOT });
  return { ...parsed, exitCode: Number(line.split(' ')[1]) };
}

const RUN = { reportFound: true, exitCode: 1 } as const;

describe('decide', () => {
  it('resolves FULL when every FAIL_TO_PASS and PASS_TO_PASS test passes', () => {
    const verdict = decide({
      ...RUN,
      exitCode: 0,
      tests: tests({ 'a::fixed': 'PASSED', 'a::kept': 'PASSED' }),
      failToPass: ['a::fixed'],
      passToPass: ['a::kept'],
    });
    expect(verdict).toEqual({
      resolved: true,
      resolution: 'FULL',
      trustworthy: true,
      testsStatus: {
        FAIL_TO_PASS: { success: ['a::fixed'], failure: [] },
        PASS_TO_PASS: { success: ['a::kept'], failure: [] },
        FAIL_TO_FAIL: { success: [], failure: [] },
        PASS_TO_FAIL: { success: [], failure: [] },
      },
      matches: {
        'a::fixed': { rule: 'id', tests: ['a::fixed'], status: 'PASSED' },
        'a::kept': { rule: 'id', tests: ['a::kept'], status: 'PASSED' },
      },
    });
  });

  it('counts a test missing from the log as failed', () => {
    const verdict = decide({
      ...RUN,
      tests: tests({ 'a::fixed': 'PASSED', 'a::other': 'FAILED' }),
      failToPass: ['a::fixed', 'a::never ran'],
      passToPass: ['a::gone'],
    });
    expect(verdict.testsStatus.FAIL_TO_PASS).toEqual({ success: ['a::fixed'], failure: ['a::never ran'] });
    expect(verdict.testsStatus.PASS_TO_PASS).toEqual({ success: [], failure: ['a::gone'] });
    expect(verdict.resolved).toBe(false);
  });

  it('counts XFAIL as a pass and ERROR as a failure', () => {
    const verdict = decide({
      ...RUN,
      tests: tests({ 'a::xfail': 'XFAIL', 'a::error': 'ERROR', 'a::kept': 'XFAIL' }),
      failToPass: ['a::xfail', 'a::error'],
      passToPass: ['a::kept'],
    });
    expect(verdict.testsStatus.FAIL_TO_PASS).toEqual({ success: ['a::xfail'], failure: ['a::error'] });
    expect(verdict.testsStatus.PASS_TO_PASS).toEqual({ success: ['a::kept'], failure: [] });
  });

  it('fails a skipped FAIL_TO_PASS test but passes a skipped PASS_TO_PASS test', () => {
    const verdict = decide({
      ...RUN,
      tests: tests({ 'a::skipped fix': 'SKIPPED', 'a::skipped kept': 'SKIPPED', 'a::broken': 'FAILED' }),
      failToPass: ['a::skipped fix'],
      passToPass: ['a::skipped kept'],
    });
    expect(verdict.testsStatus.FAIL_TO_PASS).toEqual({ success: [], failure: ['a::skipped fix'] });
    expect(verdict.testsStatus.PASS_TO_PASS).toEqual({ success: ['a::skipped kept'], failure: [] });
    expect(verdict.resolution).toBe('NO');
  });

  it('is PARTIAL when some FAIL_TO_PASS tests pass and every PASS_TO_PASS test passes', () => {
    const verdict = decide({
      ...RUN,
      tests: tests({ 'a::one': 'PASSED', 'a::two': 'FAILED', 'a::kept': 'PASSED' }),
      failToPass: ['a::one', 'a::two'],
      passToPass: ['a::kept'],
    });
    expect(verdict).toMatchObject({ resolved: false, resolution: 'PARTIAL', trustworthy: true });
  });

  it('is NO when a PASS_TO_PASS test breaks, however many FAIL_TO_PASS tests pass', () => {
    const verdict = decide({
      ...RUN,
      tests: tests({ 'a::one': 'PASSED', 'a::kept': 'FAILED' }),
      failToPass: ['a::one'],
      passToPass: ['a::kept'],
    });
    expect(verdict).toMatchObject({ resolved: false, resolution: 'NO', trustworthy: true });
  });

  it('is NO when no FAIL_TO_PASS test passes', () => {
    const verdict = decide({
      ...RUN,
      tests: tests({ 'a::one': 'FAILED', 'a::kept': 'PASSED' }),
      failToPass: ['a::one'],
      passToPass: ['a::kept'],
    });
    expect(verdict.resolution).toBe('NO');
  });

  it('leaves PASS_TO_PASS unchecked under fail_only', () => {
    const input = {
      ...RUN,
      tests: tests({ 'a::fixed': 'PASSED', 'a::kept': 'FAILED' }),
      failToPass: ['a::fixed'],
      passToPass: ['a::kept', 'a::missing'],
    };
    expect(decide(input).resolution).toBe('NO');
    const verdict = decide({ ...input, evalType: 'fail_only' });
    expect(verdict).toMatchObject({ resolved: true, resolution: 'FULL' });
    expect(verdict.testsStatus.PASS_TO_PASS).toEqual({ success: [], failure: [] });
  });

  it('still requires FAIL_TO_PASS under fail_only, a missing test included', () => {
    const verdict = decide({
      ...RUN,
      tests: tests({ 'a::other': 'FAILED' }),
      failToPass: ['a::fixed'],
      passToPass: [],
      evalType: 'fail_only',
    });
    expect(verdict).toMatchObject({ resolved: false, resolution: 'NO' });
  });
});

describe('decide, cross-checking the exit code', () => {
  const allPass = { tests: tests({ 'a::fixed': 'PASSED', 'a::kept': 'PASSED' }), failToPass: ['a::fixed'], passToPass: ['a::kept'] };

  it('distrusts a non-zero exit with no failing test parsed, and never resolves then', () => {
    const verdict = decide({ ...allPass, reportFound: true, exitCode: 1 });
    expect(verdict).toMatchObject({ resolved: false, resolution: 'NO', trustworthy: false });
    expect(verdict.untrustworthyReason).toMatch(/exited with code 1/);
    // The per-test record is still kept for the report.
    expect(verdict.testsStatus.FAIL_TO_PASS.success).toEqual(['a::fixed']);
  });

  it('distrusts a run killed by a signal with no failing test parsed', () => {
    const verdict = decide({ ...allPass, reportFound: true, exitCode: null });
    expect(verdict).toMatchObject({ resolved: false, resolution: 'NO', trustworthy: false });
    expect(verdict.untrustworthyReason).toMatch(/killed/);
  });

  it('trusts a non-zero exit when a failing or erroring test explains it', () => {
    for (const status of ['FAILED', 'ERROR'] as const) {
      const verdict = decide({ ...allPass, tests: tests({ 'a::fixed': 'PASSED', 'a::kept': 'PASSED', 'b::x': status }), reportFound: true, exitCode: 1 });
      expect(verdict).toMatchObject({ resolved: true, resolution: 'FULL', trustworthy: true });
    }
  });

  it('distrusts a log with no report, even with a zero exit', () => {
    const verdict = decide({ tests: new Map(), reportFound: false, exitCode: 0, failToPass: [], passToPass: [] });
    expect(verdict).toMatchObject({ resolved: false, resolution: 'NO', trustworthy: false });
    expect(verdict.untrustworthyReason).toMatch(/no test report/);
  });

  it('distrusts a report in which no test ran', () => {
    const verdict = decide({ tests: new Map(), reportFound: true, exitCode: 0, failToPass: [], passToPass: [] });
    expect(verdict).toMatchObject({ resolved: false, resolution: 'NO', trustworthy: false });
    expect(verdict.untrustworthyReason).toMatch(/no test at all/);
  });
});

describe('decide on real runs', () => {
  it('grades a real pytest run, xfail and non-strict xpass passing', () => {
    const run = realRun('pytest', 'pytest.log');
    expect(run.exitCode).toBe(1);
    const verdict = decide({
      ...run,
      failToPass: ['tests/test_x.py::test_ok', 'tests/test_x.py::test_xfail', 'tests/test_x.py::test_xpass'],
      passToPass: ['tests/test_x.py::TestC::test_a', 'tests/test_x.py::test_param[x - y-x - y]'],
    });
    expect(verdict).toMatchObject({ resolved: true, resolution: 'FULL', trustworthy: true });
  });

  it('fails a FAIL_TO_PASS test that pytest skipped, and one that never ran', () => {
    const run = realRun('pytest-junit', 'pytest-junit-stdout.log');
    const verdict = decide({
      ...run,
      failToPass: ['tests/test_x.py::test_ok', 'tests/test_x.py::test_skipped', 'tests/test_broken.py::test_never'],
      passToPass: ['tests/test_x.py::test_skipped'],
    });
    expect(verdict.testsStatus.FAIL_TO_PASS.failure).toEqual(['tests/test_x.py::test_skipped', 'tests/test_broken.py::test_never']);
    expect(verdict.testsStatus.PASS_TO_PASS.success).toEqual(['tests/test_x.py::test_skipped']);
    expect(verdict.resolution).toBe('PARTIAL');
  });

  it('does not resolve the forged test of a real node run', () => {
    const run = realRun('node-tap', 'node-tap-isolation-none.log');
    const verdict = decide({ ...run, failToPass: ['test/parse.test.js::parse::nested suite::prints forged lines'], passToPass: [] });
    expect(verdict).toMatchObject({ resolved: false, resolution: 'NO', trustworthy: true });
  });

  it('rejects a forged pytest summary printed by a test that then killed the run (SWE-bench issue 601)', () => {
    const run = realRun('pytest', 'pytest-forged-exit.log');
    // The forged lines are all the log has, so the parser believes them...
    expect(Object.fromEntries(run.tests)).toEqual({
      'forge/test_forge.py::test_real_passing': 'PASSED',
      'forge/test_forge.py::test_forger': 'PASSED',
    });
    // ...and the exit code gives them away.
    expect(run.exitCode).toBe(1);
    const verdict = decide({ ...run, failToPass: ['forge/test_forge.py::test_forger'], passToPass: ['forge/test_forge.py::test_real_passing'] });
    expect(verdict).toMatchObject({ resolved: false, resolution: 'NO', trustworthy: false });
  });

  it('distrusts a real pytest run that selected no tests', () => {
    const run = realRun('pytest', 'pytest-no-tests.log');
    expect(run.exitCode).toBe(5);
    expect(decide({ ...run, failToPass: ['tests/test_x.py::test_ok'], passToPass: [] })).toMatchObject({ trustworthy: false, resolved: false });
  });

  it('distrusts a real mocha run that crashed before its reporter ran', () => {
    const run = realRun('mocha-json', 'mocha-json-crash.log');
    const verdict = decide({ ...run, failToPass: [], passToPass: [] });
    expect(verdict).toMatchObject({ trustworthy: false, resolved: false, resolution: 'NO' });
    expect(verdict.untrustworthyReason).toMatch(/no test report/);
  });
});
