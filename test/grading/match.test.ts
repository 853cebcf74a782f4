import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decide } from '../../src/grading/_decide.ts';
import { matchTests, TEST_NAMINGS, testNameIn, type TestNaming } from '../../src/grading/_match.ts';
import { parseTestLog } from '../../src/grading/_parsers.ts';
import type { TestNames, TestStatus } from '../../src/grading/_parse-types.ts';
import type { LogParserName } from '../../src/tasks/index.ts';

const ROOT = '/work/repo';
const LOGS = fileURLToPath(new URL('../fixtures/logs/', import.meta.url));

/** A real log (see test/fixtures/logs/regenerate.sh), parsed as the grader parses it. */
function realLog(parser: LogParserName, name: string) {
  return parseTestLog(parser, readFileSync(`${LOGS}${name}`, 'utf8'), { root: ROOT });
}

/** Parsed tests written out by hand: id -> [status, names]. */
function parsedTests(entries: Record<string, [TestStatus, Partial<TestNames>?]>) {
  const tests = new Map<string, TestStatus>();
  const names = new Map<string, TestNames>();
  for (const [id, [status, testNames]] of Object.entries(entries)) {
    tests.set(id, status);
    names.set(id, { native: testNames?.native ?? [], title: testNames?.title });
  }
  return { tests, names };
}

function matchOne(name: string, parsed: Parameters<typeof matchTests>[1]) {
  return matchTests([name], parsed).get(name)!;
}

describe('matching a dataset name: our own id', () => {
  it('matches file::suites::title exactly', () => {
    const parsed = realLog('mocha-json', 'mocha-json.log');
    expect(matchOne('test/parse.test.js::parse::rejects bad input', parsed)).toEqual({
      rule: 'id', tests: ['test/parse.test.js::parse::rejects bad input'], status: 'FAILED',
    });
  });

  it('wins over a runner name another test happens to carry', () => {
    const parsed = parsedTests({ 'a::works': ['FAILED'], 'b::other': ['PASSED', { native: ['a::works'] }] });
    expect(matchOne('a::works', parsed)).toMatchObject({ rule: 'id', tests: ['a::works'], status: 'FAILED' });
  });
});

describe('matching a dataset name: the runner\'s own names', () => {
  it('matches a pytest node id', () => {
    const parsed = realLog('pytest', 'pytest.log');
    expect(matchOne('tests/test_x.py::TestC::TestNested::test_deep', parsed)).toMatchObject({ rule: 'id', status: 'PASSED' });
  });

  it('matches unittest `test (module.Class)`, `test (module.Class.test)` and `module.Class.test`', () => {
    const parsed = realLog('unittest', 'unittest.log');
    for (const name of ['test_b (tests.test_x.TestC)', 'test_b (tests.test_x.TestC.test_b)', 'tests.test_x.TestC.test_b']) {
      expect(matchOne(name, parsed), name).toEqual({ rule: 'native', tests: ['tests/test_x.py::TestC::test_b'], status: 'FAILED' });
    }
    expect(matchOne('test_a (tests.test_x.TestD)', parsed)).toMatchObject({ rule: 'native', tests: ['tests/test_x.py::TestD::test_a'], status: 'PASSED' });
  });

  it('matches the docstring line verbose unittest prints in place of the name', () => {
    const parsed = realLog('unittest', 'unittest.log');
    expect(matchOne('Checks the docstring path.', parsed)).toMatchObject({ rule: 'native', tests: ['tests/test_x.py::TestC::test_doc'], status: 'PASSED' });
    expect(matchOne('A failing test with a docstring.', parsed)).toMatchObject({ rule: 'native', status: 'FAILED' });
  });

  it('matches mocha fullTitle (suites and title joined by spaces, no file)', () => {
    const parsed = realLog('mocha-json', 'mocha-json.log');
    expect(matchOne('parse rejects bad input', parsed)).toEqual({ rule: 'native', tests: ['test/parse.test.js::parse::rejects bad input'], status: 'FAILED' });
    expect(matchOne('parse handles empty input', parsed)).toMatchObject({ rule: 'native', status: 'PASSED' });
  });

  it('matches jest fullName alone and as <relative file>-><fullName>', () => {
    const parsed = realLog('jest-json', 'jest-json.log');
    expect(matchOne('parse handles empty input', parsed)).toEqual({ rule: 'native', tests: ['test/parse.test.js::parse::handles empty input'], status: 'PASSED' });
    expect(matchOne('test/sub/other.test.js->same title', parsed)).toEqual({ rule: 'native', tests: ['test/sub/other.test.js::same title'], status: 'PASSED' });
  });

  it('matches vitest\'s `file > suite > title`', () => {
    const parsed = realLog('vitest-json', 'vitest-json.log');
    const [id] = [...parsed.tests.keys()].filter((key) => key.endsWith('::rejects bad input'));
    expect(matchOne('test/parse.test.js > parse > rejects bad input', parsed)).toEqual({ rule: 'native', tests: [id], status: 'FAILED' });
  });
});

describe('matching a dataset name: an absolute path from a container', () => {
  it('drops any container root in front of <file>-><fullName> (SWE-PolyBench)', () => {
    const parsed = realLog('jest-json', 'jest-json.log');
    expect(matchOne('/app/test/parse.test.js->parse rejects bad input', parsed)).toEqual({
      rule: 'container-path', tests: ['test/parse.test.js::parse::rejects bad input'], status: 'FAILED',
    });
    expect(matchOne('/testbed/test/sub/other.test.js->same title', parsed)).toMatchObject({ rule: 'container-path', tests: ['test/sub/other.test.js::same title'], status: 'PASSED' });
    expect(matchOne('/home/ci/work/checkout/test/parse.test.js->top-level test', parsed)).toMatchObject({ rule: 'container-path', status: 'PASSED' });
  });

  it('never lets the path go: a file the run did not report is missing', () => {
    const parsed = realLog('jest-json', 'jest-json.log');
    expect(matchOne('/app/test/elsewhere.test.js->same title', parsed)).toEqual({ rule: 'none', tests: [], status: 'MISSING' });
  });
});

describe('matching a dataset name: the title alone', () => {
  it('matches the bare title verbose jest and vitest print', () => {
    const parsed = realLog('jest-json', 'jest-json.log');
    expect(matchOne('rejects bad input', parsed)).toEqual({ rule: 'title', tests: ['test/parse.test.js::parse::rejects bad input'], status: 'FAILED' });
  });

  it('matches a TAP description, also with the `- ` SWE-bench keeps', () => {
    const parsed = parseTestLog('tap', 'TAP version 13\nok 1 - adds numbers\nnot ok 2 - divides by zero\n1..2\n', { root: ROOT });
    expect(matchOne('adds numbers', parsed)).toMatchObject({ rule: 'id', status: 'PASSED' });
    expect(matchOne('- divides by zero', parsed)).toEqual({ rule: 'title', tests: ['divides by zero'], status: 'FAILED' });
  });

  it('matches a sympy-style bare function name to a pytest id', () => {
    const parsed = realLog('pytest', 'pytest.log');
    expect(matchOne('test_bad', parsed)).toEqual({ rule: 'title', tests: ['tests/test_x.py::test_bad'], status: 'FAILED' });
  });
});

describe('matching a dataset name: SWE-bench\'s whitespace truncation', () => {
  it('matches a pytest id cut at a space inside its parameters', () => {
    const parsed = realLog('pytest', 'pytest.log');
    expect(matchOne('tests/test_x.py::test_param[x', parsed)).toEqual({
      rule: 'truncated', tests: ['tests/test_x.py::test_param[x - y-x - y]'], status: 'PASSED',
    });
  });

  it('counts only when every test the cut name starts agrees', () => {
    const agree = parsedTests({ 't.py::p[a b]': ['PASSED'], 't.py::p[a c]': ['PASSED'] });
    expect(matchOne('t.py::p[a', agree)).toMatchObject({ rule: 'truncated', status: 'PASSED' });
    const disagree = parsedTests({ 't.py::p[a b]': ['PASSED'], 't.py::p[a c]': ['FAILED'] });
    expect(matchOne('t.py::p[a', disagree)).toMatchObject({ rule: 'truncated', status: 'MISSING', tests: ['t.py::p[a b]', 't.py::p[a c]'] });
  });

  it('never cuts inside a word: a shorter name is not a prefix match', () => {
    const parsed = parsedTests({ 't.py::test_parse_all': ['PASSED'] });
    expect(matchOne('t.py::test_parse', parsed)).toEqual({ rule: 'none', tests: [], status: 'MISSING' });
  });
});

describe('matching a dataset name: several tests and looser rules', () => {
  it('takes the worst status when a name matches several tests', () => {
    const parsed = realLog('jest-json', 'jest-json.log');
    // `parse nested suite title` is a test in two files: one passes, one fails.
    expect(matchOne('parse nested suite title', parsed)).toEqual({
      rule: 'native',
      tests: ['test/parse.test.js::parse::nested suite::title', 'test/sub/other.test.js::parse::nested suite::title'],
      status: 'FAILED',
    });
    expect(matchOne('test_a', realLog('pytest', 'pytest.log'))).toMatchObject({ rule: 'title', status: 'FAILED' });
  });

  it('never lets a looser rule turn a stricter failure into a pass', () => {
    const byId = parsedTests({ 't.py::test_y[a': ['FAILED'], 't.py::test_y[a b]': ['PASSED'] });
    expect(matchOne('t.py::test_y[a', byId)).toMatchObject({ rule: 'id', status: 'FAILED' });
    const byNative = parsedTests({ 'a.js::suite::works': ['FAILED', { native: ['suite works'] }], 'b.js::suite works': ['PASSED', { title: 'suite works' }] });
    expect(matchOne('suite works', byNative)).toMatchObject({ rule: 'native', tests: ['a.js::suite::works'], status: 'FAILED' });
    const byTitle = parsedTests({ 'a.js::works': ['FAILED', { title: 'works' }], 'b.js::works fine': ['PASSED'] });
    expect(matchOne('works', byTitle)).toMatchObject({ rule: 'title', status: 'FAILED' });
  });

  it('calls a name that matches nothing missing', () => {
    expect(matchOne('tests/test_x.py::test_gone', realLog('pytest', 'pytest.log'))).toEqual({ rule: 'none', tests: [], status: 'MISSING' });
  });
});

describe('decide with names in other harnesses\' naming', () => {
  it('resolves a SWE-PolyBench row graded from jest --json and records each rule', () => {
    const parsed = realLog('jest-json', 'jest-json.log');
    const verdict = decide({
      ...parsed, exitCode: 1,
      failToPass: ['/app/test/parse.test.js->parse handles empty input'],
      passToPass: ['top-level test', 'test/sub/other.test.js->same title'],
    });
    expect(verdict.resolved).toBe(true);
    expect(Object.fromEntries(Object.entries(verdict.matches).map(([name, match]) => [name, match.rule]))).toEqual({
      '/app/test/parse.test.js->parse handles empty input': 'container-path',
      'top-level test': 'native',
      'test/sub/other.test.js->same title': 'native',
    });
  });

  it('fails a FAIL_TO_PASS name whose tests disagree, and one that matches nothing', () => {
    const parsed = realLog('jest-json', 'jest-json.log');
    const verdict = decide({ ...parsed, exitCode: 1, failToPass: ['parse nested suite title', 'never ran'], passToPass: [] });
    expect(verdict.testsStatus.FAIL_TO_PASS).toEqual({ success: [], failure: ['parse nested suite title', 'never ran'] });
    expect(verdict.matches['never ran']).toEqual({ rule: 'none', tests: [], status: 'MISSING' });
  });
});

describe('writing names in another harness\'s naming', () => {
  const nameOf = (naming: TestNaming, parser: LogParserName, log: string, id: string) =>
    testNameIn(naming, id, realLog(parser, log).names.get(id));

  it('writes SWE-bench\'s names: pytest ids cut at a space, unittest\'s own line or docstring, verbose titles', () => {
    expect(nameOf('swebench', 'pytest', 'pytest.log', 'tests/test_x.py::test_param[x - y-x - y]')).toBe('tests/test_x.py::test_param[x');
    expect(nameOf('swebench', 'unittest', 'unittest.log', 'tests/test_x.py::TestC::test_b')).toBe('test_b (tests.test_x.TestC.test_b)');
    expect(nameOf('swebench', 'unittest', 'unittest.log', 'tests/test_x.py::TestC::test_doc')).toBe('Checks the docstring path.');
    expect(nameOf('swebench', 'jest-json', 'jest-json.log', 'test/parse.test.js::parse::rejects bad input')).toBe('rejects bad input');
    expect(nameOf('swebench', 'vitest-verbose', 'vitest-verbose.log', 'test/parse.test.js::parse::rejects bad input')).toBe('test/parse.test.js > parse > rejects bad input');
    expect(nameOf('swebench', 'sympy', 'sympy-verbose.log', 'sympy/demo/tests/test_demo.py::test_known_bug')).toBe('test_known_bug');
    expect(nameOf('swebench', 'karma', 'karma-mocha.log', 'parse::nested suite::title')).toBe('parse > nested suite > title');
  });

  it('writes SWE-PolyBench\'s names: mocha fullTitle, jest <file>-><fullName>', () => {
    expect(nameOf('polybench', 'mocha-json', 'mocha-json.log', 'test/parse.test.js::parse nested suite::title')).toBe('parse nested suite title');
    expect(nameOf('polybench', 'jest-json', 'jest-json.log', 'test/sub/other.test.js::parse::nested suite::title')).toBe('test/sub/other.test.js->parse nested suite title');
  });

  it('keeps our id where the harness has no parser for the runner, and always for bench', () => {
    expect(nameOf('swebench', 'mocha-json', 'mocha-json.log', 'test/parse.test.js::parse::rejects bad input')).toBe('test/parse.test.js::parse::rejects bad input');
    expect(nameOf('bench', 'unittest', 'unittest.log', 'tests/test_x.py::TestC::test_b')).toBe('tests/test_x.py::TestC::test_b');
  });

  it('round-trips: every name written in a naming matches its own test back', () => {
    for (const [parser, log] of [['pytest', 'pytest.log'], ['unittest', 'unittest.log'], ['jest-json', 'jest-json.log'], ['mocha-json', 'mocha-json.log'], ['sympy', 'sympy-verbose.log']] as const) {
      const parsed = realLog(parser, log);
      for (const naming of TEST_NAMINGS) {
        for (const id of parsed.tests.keys()) {
          const name = testNameIn(naming, id, parsed.names.get(id));
          expect(matchOne(name, parsed).tests, `${parser} ${naming} ${name}`).toContain(id);
        }
      }
    }
  });
});
