import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JEST_RUN } from './_jest-run.ts';
import { UserError } from '../../src/errors.ts';
import { parseTestLog } from '../../src/grading/_parsers.ts';
import type { TestStatus } from '../../src/grading/_parse-types.ts';
import { LOG_PARSERS, type LogParserName } from '../../src/tasks/index.ts';

// Every log here comes from a real run (see test/fixtures/logs/regenerate.sh), with the
// throwaway project's path replaced by this root.
const ROOT = '/work/repo';
const LOGS = fileURLToPath(new URL('../fixtures/logs/', import.meta.url));

function fixture(name: string): string {
  return readFileSync(`${LOGS}${name}`, 'utf8');
}

function parse(parser: LogParserName, name: string): Record<string, TestStatus> {
  const parsed = parseTestLog(parser, fixture(name), { root: ROOT });
  expect(parsed.reportFound).toBe(true);
  return Object.fromEntries(parsed.tests);
}

// test/parse.test.js, test/sub/other.test.js and test/broken.test.js under node:test.
const NODE_RUN: Record<string, TestStatus> = {
  'test/broken.test.js': 'ERROR',
  'test/parse.test.js::parse::handles empty input': 'PASSED',
  'test/parse.test.js::parse::rejects bad input': 'FAILED',
  'test/parse.test.js::parse::escapes <b> & "quotes"': 'PASSED',
  'test/parse.test.js::parse::nested suite::title': 'PASSED',
  'test/parse.test.js::parse::nested suite::skipped one': 'SKIPPED',
  'test/parse.test.js::parse::nested suite::todo one': 'SKIPPED',
  'test/parse.test.js::parse::nested suite::todo that fails': 'SKIPPED',
  'test/parse.test.js::parse::nested suite::prints forged lines': 'FAILED',
  'test/parse.test.js::top-level test': 'PASSED',
  'test/parse.test.js::same title': 'PASSED',
  // expectFailure: junit shows a test that failed as expected as a plain pass.
  'test/parse.test.js::known bug': 'PASSED',
  'test/parse.test.js::known bug that got fixed': 'FAILED',
  'test/parse.test.js::with subtests::first child': 'PASSED',
  'test/parse.test.js::with subtests::second child': 'FAILED',
  'test/sub/other.test.js::parse::nested suite::title': 'FAILED',
  'test/sub/other.test.js::same title': 'PASSED',
};

// TAP marks a test that failed as expected with its own directive.
const NODE_RUN_TAP: Record<string, TestStatus> = { ...NODE_RUN, 'test/parse.test.js::known bug': 'XFAIL' };

// The same runs restricted to test/parse.test.js, without process isolation.
const onlyParseFile = (run: Record<string, TestStatus>): Record<string, TestStatus> =>
  Object.fromEntries(Object.entries(run).filter(([id]) => id.startsWith('test/parse.test.js::')));

const FORGED = 'test/parse.test.js::parse::nested suite::prints forged lines';

describe('node:test with the junit reporter', () => {
  it('names each test by relative file, nested describe blocks and title', () => {
    expect(parse('node-junit', 'node-junit.log')).toEqual(NODE_RUN);
  });

  it('records a file that fails to load as an ERROR under the file id', () => {
    expect(fixture('node-junit.log')).toContain('<testcase name="test/broken.test.js"');
    expect(parse('node-junit', 'node-junit.log')['test/broken.test.js']).toBe('ERROR');
  });

  it('undoes the double escaping node applies to quotes in titles', () => {
    expect(fixture('node-junit.log')).toContain('name="escapes &lt;b> &amp; &amp;quot;quotes&amp;quot;"');
    expect(parse('node-junit', 'node-junit.log')['test/parse.test.js::parse::escapes <b> & "quotes"']).toBe('PASSED');
  });

  it('finds the report among raw output and ignores the forged XML a test printed before it', () => {
    const log = fixture('node-junit-isolation-none.log');
    expect(log.indexOf('<testsuites><testcase name="prints forged lines"')).toBeLessThan(log.indexOf('<?xml'));
    expect(parse('node-junit', 'node-junit-isolation-none.log')).toEqual(onlyParseFile(NODE_RUN));
    expect(parse('node-junit', 'node-junit-isolation-none.log')[FORGED]).toBe('FAILED');
  });
});

describe('node:test with the tap reporter', () => {
  it('gives the same ids as the junit reporter for the same run, with expected failures as XFAIL', () => {
    expect(fixture('node-tap.log')).toContain('ok 5 - known bug # EXPECTED FAILURE');
    expect(parse('node-tap', 'node-tap.log')).toEqual(NODE_RUN_TAP);
  });

  it('does not let forged ok lines printed outside the report change a failing test', () => {
    const log = fixture('node-tap-isolation-none.log');
    expect(log).toMatch(/^ok 1 - prints forged lines$/m);
    expect(log).toMatch(/^ {4}ok 5 - prints forged lines$/m);
    expect(parse('node-tap', 'node-tap-isolation-none.log')).toEqual(onlyParseFile(NODE_RUN_TAP));
  });

  it('leaves out the file part when no test failed, since node prints locations for failures only', () => {
    expect(parse('node-tap', 'node-tap-all-pass.log')).toEqual({ 'green::passes': 'PASSED' });
  });
});

describe('generic TAP', () => {
  it('reads vitest buffered subtests with the file as the outermost test', () => {
    expect(parse('tap', 'tap-vitest.log')).toEqual({
      'test/broken.test.js': 'FAILED',
      'test/parse.test.js::parse::handles empty input': 'PASSED',
      'test/parse.test.js::parse::rejects bad input': 'FAILED',
      'test/parse.test.js::parse::nested suite::title': 'PASSED',
      'test/parse.test.js::parse::nested suite::skipped one': 'SKIPPED',
      'test/parse.test.js::parse::nested suite::todo one': 'SKIPPED',
      'test/parse.test.js::parse::nested suite::expected to fail': 'PASSED',
      'test/parse.test.js::parse::nested suite::prints forged lines': 'FAILED',
      'test/parse.test.js::top-level test': 'PASSED',
      'test/parse.test.js::same title': 'PASSED',
      'test/sub/other.test.js::parse::nested suite::title': 'FAILED',
      'test/sub/other.test.js::same title': 'PASSED',
    });
  });

  it('reads flat mocha TAP, where a forged ok line for a failing test does not stand', () => {
    expect(fixture('tap-mocha.log')).toMatch(/^ok 9 parse nested suite prints forged lines$/m);
    expect(parse('tap', 'tap-mocha.log')).toEqual({
      'top-level test': 'PASSED',
      'same title': 'PASSED',
      'parse handles empty input': 'PASSED',
      'parse rejects bad input': 'FAILED',
      // mocha's TAP has no file: the two files' `title` tests share an id and the failure wins.
      'parse nested suite title': 'FAILED',
      'parse nested suite skipped one': 'SKIPPED',
      'parse nested suite pending without body': 'SKIPPED',
      'parse nested suite prints forged lines': 'FAILED',
      'parse hooked "before all" hook for "never runs behind a failing hook"': 'FAILED',
    });
  });

  it('keeps the worst status of a test reported more than once', () => {
    const parsed = parseTestLog('tap', 'ok 1 - a\nnot ok 2 - a\nok 3 - a\n1..3\n', { root: ROOT });
    expect(Object.fromEntries(parsed.tests)).toEqual({ a: 'FAILED' });
  });
});

describe('generic JUnit XML', () => {
  it('names vitest testcases by file and the name vitest builds from the suites', () => {
    expect(parse('junit', 'junit-vitest.log')).toEqual({
      'test/broken.test.js': 'FAILED',
      'test/parse.test.js::parse > handles empty input': 'PASSED',
      'test/parse.test.js::parse > rejects bad input': 'FAILED',
      'test/parse.test.js::parse > nested suite > title': 'PASSED',
      'test/parse.test.js::parse > nested suite > skipped one': 'SKIPPED',
      'test/parse.test.js::parse > nested suite > todo one': 'SKIPPED',
      'test/parse.test.js::parse > nested suite > expected to fail': 'PASSED',
      'test/parse.test.js::parse > nested suite > prints forged lines': 'FAILED',
      'test/parse.test.js::top-level test': 'PASSED',
      'test/parse.test.js::same title': 'PASSED',
      'test/sub/other.test.js::parse > nested suite > title': 'FAILED',
      'test/sub/other.test.js::same title': 'PASSED',
    });
  });

  it('reads mocha xunit, a bare testsuite with file attributes, past a forged one printed first', () => {
    expect(fixture('junit-mocha-xunit.log')).toContain('<testsuite name="Mocha Tests"><testcase classname="parse nested suite" name="prints forged lines"');
    expect(parse('junit', 'junit-mocha-xunit.log')).toEqual({
      'test/parse.test.js::top-level test': 'PASSED',
      'test/parse.test.js::same title': 'PASSED',
      'test/sub/other.test.js::same title': 'PASSED',
      'test/parse.test.js::parse::handles empty input': 'PASSED',
      'test/parse.test.js::parse::rejects bad input': 'FAILED',
      'test/parse.test.js::parse nested suite::title': 'PASSED',
      'test/parse.test.js::parse nested suite::skipped one': 'SKIPPED',
      'test/parse.test.js::parse nested suite::pending without body': 'SKIPPED',
      'test/parse.test.js::parse nested suite::prints forged lines': 'FAILED',
      'test/parse.test.js::parse hooked::"before all" hook for "never runs behind a failing hook"': 'FAILED',
      'test/sub/other.test.js::parse nested suite::title': 'FAILED',
    });
  });
});

describe('jest --json and vitest --reporter=json', () => {
  it('names jest tests by file, ancestor titles and title, past a forged report printed first', () => {
    const log = fixture('jest-json.log');
    expect(log.indexOf('{"numFailedTestSuites":0')).toBeLessThan(log.lastIndexOf('{"numFailedTestSuites":3'));
    expect(parse('jest-json', 'jest-json.log')).toEqual(JEST_RUN);
  });

  it('reads vitest the same way, with a file that failed to load as an ERROR', () => {
    expect(fixture('vitest-json.log')).toMatch(/^\{"numTotalTestSuites":1,"numPassedTests":1,"success":true/);
    expect(parse('vitest-json', 'vitest-json.log')).toEqual({
      'test/broken.test.js': 'ERROR',
      'test/parse.test.js::parse::handles empty input': 'PASSED',
      'test/parse.test.js::parse::rejects bad input': 'FAILED',
      'test/parse.test.js::parse::nested suite::title': 'PASSED',
      'test/parse.test.js::parse::nested suite::skipped one': 'SKIPPED',
      'test/parse.test.js::parse::nested suite::todo one': 'SKIPPED',
      'test/parse.test.js::parse::nested suite::expected to fail': 'PASSED',
      'test/parse.test.js::parse::nested suite::prints forged lines': 'FAILED',
      'test/parse.test.js::top-level test': 'PASSED',
      'test/parse.test.js::same title': 'PASSED',
      'test/sub/other.test.js::parse::nested suite::title': 'FAILED',
      'test/sub/other.test.js::same title': 'PASSED',
    });
  });
});

describe('mocha --reporter json', () => {
  it('names tests by file, the joined suite titles and title, with a failing hook as an ERROR', () => {
    expect(fixture('mocha-json.log')).toMatch(/^\{ "stats": \{ "suites": 1, "tests": 1, "passes": 1/);
    expect(parse('mocha-json', 'mocha-json.log')).toEqual({
      'test/parse.test.js::top-level test': 'PASSED',
      'test/parse.test.js::same title': 'PASSED',
      'test/sub/other.test.js::same title': 'PASSED',
      'test/parse.test.js::parse::handles empty input': 'PASSED',
      'test/parse.test.js::parse::rejects bad input': 'FAILED',
      'test/parse.test.js::parse nested suite::title': 'PASSED',
      'test/parse.test.js::parse nested suite::skipped one': 'SKIPPED',
      'test/parse.test.js::parse nested suite::pending without body': 'SKIPPED',
      'test/parse.test.js::parse nested suite::prints forged lines': 'FAILED',
      'test/parse.test.js::parse hooked::"before all" hook for "never runs behind a failing hook"': 'ERROR',
      'test/sub/other.test.js::parse nested suite::title': 'FAILED',
    });
  });

  it('finds no report when mocha crashed loading a file', () => {
    const parsed = parseTestLog('mocha-json', fixture('mocha-json-crash.log'), { root: ROOT });
    expect(parsed).toEqual({ tests: new Map(), names: new Map(), reportFound: false });
  });
});

// tests/test_x.py, tests/sub/test_y.py and tests/test_broken.py under pytest.
const PYTEST_SUMMARY: Record<string, TestStatus> = {
  'tests/test_x.py::test_ok': 'PASSED',
  'tests/test_x.py::test_param[1-1]': 'PASSED',
  'tests/test_x.py::test_param[x - y-x - y]': 'PASSED',
  'tests/test_x.py::TestC::test_a': 'PASSED',
  'tests/test_x.py::TestC::TestNested::test_deep': 'PASSED',
  'tests/test_x.py::test_teardown_error': 'ERROR',
  'tests/test_x.py::test_xfail': 'XFAIL',
  'tests/test_x.py::test_xpass': 'PASSED',
  'tests/test_broken.py': 'ERROR',
  'tests/test_x.py::test_setup_error': 'ERROR',
  'tests/sub/test_y.py::TestC::test_a': 'FAILED',
  'tests/test_x.py::test_bad': 'FAILED',
  'tests/test_x.py::test_xpass_strict': 'FAILED',
  'tests/test_x.py::test_param[1-2]': 'FAILED',
  'tests/test_x.py::test_forged': 'FAILED',
  'tests/test_x.py::TestC::test_b': 'FAILED',
};

describe('pytest -rA', () => {
  it('reads node ids from the short test summary, reasons stripped and skips without a node id left out', () => {
    const log = fixture('pytest.log');
    expect(log).toContain('SKIPPED [1] tests/test_x.py:21: not today');
    expect(log).toContain('PASSED tests/test_x.py::test_teardown_error');
    expect(log).toContain('ERROR tests/test_x.py::test_teardown_error - RuntimeError: teardown boom');
    expect(parse('pytest', 'pytest.log')).toEqual(PYTEST_SUMMARY);
  });

  it('ignores a forged summary a test printed, captured or not', () => {
    expect(fixture('pytest.log')).toMatch(/Captured stdout call[^]*short test summary info[^]*PASSED tests\/test_x\.py::test_forged/);
    expect(fixture('pytest-no-capture.log')).toMatch(/^PASSED tests\/test_x\.py::test_forged$/m);
    expect(parse('pytest', 'pytest-no-capture.log')).toEqual(PYTEST_SUMMARY);
  });

  it('reads a coloured summary as if it were plain', () => {
    expect(fixture('pytest-color.log')).toContain('\x1b[32mPASSED\x1b[0m tests/test_x.py::\x1b[1mtest_ok\x1b[0m');
    expect(parse('pytest', 'pytest-color.log')).toEqual(PYTEST_SUMMARY);
  });

  it('records a module that fails to collect as an ERROR under the module path', () => {
    expect(parse('pytest', 'pytest-collection-error.log')).toEqual({ 'tests/test_broken.py': 'ERROR' });
  });

  it('finds a report with no tests when nothing was selected', () => {
    expect(parse('pytest', 'pytest-no-tests.log')).toEqual({});
  });

  it('reads the summary of a log that also carries the JUnit XML mid-line', () => {
    expect(parse('pytest', 'pytest-junit-stdout.log')).toEqual(PYTEST_SUMMARY);
  });
});

// JUnit also lists the skipped test, which the -rA summary names by location only.
const PYTEST_JUNIT = { ...PYTEST_SUMMARY, 'tests/test_x.py::test_skipped': 'SKIPPED' };

describe('pytest --junitxml', () => {
  it('turns classname and name back into pytest node ids, xfail included', () => {
    expect(fixture('pytest-junit.xml')).toContain('<skipped type="pytest.xfail" message="known bug" />');
    expect(parse('pytest-junit', 'pytest-junit.xml')).toEqual(PYTEST_JUNIT);
  });

  it('uses the file attribute of the xunit1 family when present', () => {
    expect(fixture('pytest-junit-xunit1.xml')).toContain('file="tests/test_x.py"');
    expect(parse('pytest-junit', 'pytest-junit-xunit1.xml')).toEqual(PYTEST_JUNIT);
  });

  it('finds the XML written to stdout in the middle of the terminal output', () => {
    expect(fixture('pytest-junit-stdout.log')).toMatch(/\[100%\]<\?xml/);
    expect(parse('pytest-junit', 'pytest-junit-stdout.log')).toEqual(PYTEST_JUNIT);
  });
});

const UNITTEST_RUN: Record<string, TestStatus> = {
  'tests/sub/test_y.py::TestC::test_a': 'FAILED',
  'tests/test_broken.py': 'ERROR',
  'tests/test_x.py::TestC::test_a': 'PASSED',
  'tests/test_x.py::TestC::test_b': 'FAILED',
  'tests/test_x.py::TestC::test_doc': 'PASSED',
  'tests/test_x.py::TestC::test_doc_fails': 'FAILED',
  'tests/test_x.py::TestC::test_error': 'ERROR',
  'tests/test_x.py::TestC::test_forged': 'FAILED',
  'tests/test_x.py::TestC::test_skipped': 'SKIPPED',
  'tests/test_x.py::TestC::test_subtests': 'FAILED',
  'tests/test_x.py::TestC::test_xfail': 'XFAIL',
  'tests/test_x.py::TestC::test_xpass': 'FAILED',
  'tests/test_x.py::TestD::test_a': 'PASSED',
};

describe('unittest -v', () => {
  it('names tests by module path, class and method, with the status after a docstring line', () => {
    expect(fixture('unittest.log')).toContain('test_doc (tests.test_x.TestC.test_doc)\nChecks the docstring path. ... ok');
    expect(parse('unittest', 'unittest.log')).toEqual(UNITTEST_RUN);
  });

  it('keeps a test failed when it prints a forged ok line for itself', () => {
    expect(fixture('unittest.log')).toContain('test_forged (tests.test_x.TestC.test_forged) ... test_forged (tests.test_x.TestC.test_forged) ... ok\nok\nFAIL');
    expect(parse('unittest', 'unittest.log')['tests/test_x.py::TestC::test_forged']).toBe('FAILED');
  });

  it('reads the Python 3.10 form that leaves the method out of the parentheses', () => {
    // Python 3.10 prints `test_a (tests.test_x.TestC)`; rewrite the real 3.11 log into that form.
    const older = fixture('unittest.log').replace(/(\S+) \(([\w.]+)\.\1\)/g, '$1 ($2)');
    expect(older).toContain('test_b (tests.test_x.TestC) ... FAIL');
    expect(older).toContain('tests.test_broken (unittest.loader._FailedTest) ... ERROR');
    expect(Object.fromEntries(parseTestLog('unittest', older, { root: ROOT }).tests)).toEqual(UNITTEST_RUN);
  });
});

describe('parseTestLog', () => {
  it('finds no report in a log from a crash, whatever the parser', () => {
    for (const parser of LOG_PARSERS) {
      expect(parseTestLog(parser, fixture('mocha-json-crash.log'), { root: ROOT }), parser).toEqual({
        tests: new Map(),
        names: new Map(),
        reportFound: false,
      });
    }
  });

  it('rejects an unknown parser name with a suggestion', () => {
    expect(() => parseTestLog('pytest-junt' as LogParserName, '', { root: ROOT })).toThrow(UserError);
    expect(() => parseTestLog('pytest-junt' as LogParserName, '', { root: ROOT })).toThrow(/Did you mean `pytest-junit`\?/);
  });

  it('accepts the root with a trailing slash', () => {
    const parsed = parseTestLog('node-junit', fixture('node-junit.log'), { root: `${ROOT}/` });
    expect(Object.fromEntries(parsed.tests)).toEqual(NODE_RUN);
  });
});
