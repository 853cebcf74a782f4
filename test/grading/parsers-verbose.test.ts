import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JEST_RUN } from './_jest-run.ts';
import { matchTests } from '../../src/grading/_match.ts';
import { parseTestLog } from '../../src/grading/_parsers.ts';
import type { LogParserName } from '../../src/tasks/index.ts';

// Real runs (test/fixtures/logs/regenerate.sh): Django's runner, sympy's, jest and vitest verbose.
const ROOT = '/work/repo';
const LOGS = fileURLToPath(new URL('../fixtures/logs/', import.meta.url));

function parseFixture(parser: LogParserName, name: string) {
  const parsed = parseTestLog(parser, readFileSync(`${LOGS}${name}`, 'utf8'), { root: ROOT });
  expect(parsed.reportFound).toBe(true);
  return parsed;
}


describe('jest --verbose', () => {
  it('reads suites from indentation, skipped and todo tests, and a file that failed to load', () => {
    expect(Object.fromEntries(parseFixture('jest-verbose', 'jest-verbose.log').tests)).toEqual(JEST_RUN);
  });

  it('never reads console output as a test, and a `●` section fails its test whatever its line said', () => {
    // A console block between two files' reports, as jest prints one, holding lines shaped like a tree.
    const log = readFileSync(`${LOGS}jest-verbose.log`, 'utf8')
      .replace('✕ rejects bad input', '✓ rejects bad input')
      .replace('FAIL test/sub/other.test.js', '  console.log\n    ✓ made up by a test\n  parse\n    ✓ made up too\n\nFAIL test/sub/other.test.js');
    const parsed = parseTestLog('jest-verbose', log, { root: ROOT });
    expect(parsed.tests.get('test/parse.test.js::parse::rejects bad input')).toBe('FAILED');
    expect([...parsed.tests.keys()].filter((id) => id.includes('made up'))).toEqual([]);
  });

  it('gives the names SWE-bench (bare title) and SWE-PolyBench (`/app/<file>-><fullName>`) use', () => {
    const parsed = parseFixture('jest-verbose', 'jest-verbose.log');
    const matches = matchTests(['rejects bad input', '/app/test/sub/other.test.js->same title'], parsed);
    expect(matches.get('rejects bad input')).toMatchObject({ rule: 'title', status: 'FAILED' });
    expect(matches.get('/app/test/sub/other.test.js->same title')).toMatchObject({ rule: 'container-path', status: 'PASSED' });
  });
});

describe('vitest --reporter=verbose', () => {
  it('reads `file > suite > title` lines, skips, todos and a file that failed to load', () => {
    expect(Object.fromEntries(parseFixture('vitest-verbose', 'vitest-verbose.log').tests)).toEqual({
      ...JEST_RUN,
      // test.fails: vitest reports a test that failed as expected as a pass.
      'test/parse.test.js::parse::nested suite::expected to fail': 'PASSED',
    });
  });

  it('matches the full line SWE-bench keeps', () => {
    const parsed = parseFixture('vitest-verbose', 'vitest-verbose.log');
    expect(matchTests(['test/parse.test.js > parse > nested suite > title'], parsed).get('test/parse.test.js > parse > nested suite > title'))
      .toMatchObject({ rule: 'native', status: 'PASSED' });
  });
});

describe("Django's runtests.py --verbosity 2", () => {
  it('reads unittest lines among migrations and checks, with ids from tests/', () => {
    expect(Object.fromEntries(parseFixture('django', 'django-verbose.log').tests)).toEqual({
      'tests/shelf/tests.py::ShelfDatabaseTests::test_saves_a_user': 'PASSED',
      'tests/shelf/tests.py::ShelfTests::test_counts_wrongly': 'FAILED',
      'tests/shelf/tests.py::ShelfTests::test_known_bug': 'XFAIL',
      'tests/shelf/tests.py::ShelfTests::test_lists_books': 'PASSED',
      // It printed a passing line for itself on its own result line; the runner said FAIL.
      'tests/shelf/tests.py::ShelfTests::test_prints_forged_lines': 'FAILED',
      'tests/shelf/tests.py::ShelfTests::test_prints_labels': 'SKIPPED',
      'tests/shelf/tests.py::ShelfTests::test_raises': 'ERROR',
      'tests/shelf/tests.py::ShelfTests::test_with_docstring': 'PASSED',
      'tests/ledger/tests.py::LedgerTests::test_lists_books': 'PASSED',
    });
  });

  it("matches SWE-bench's `test (module.Class)` names and docstring lines", () => {
    const parsed = parseFixture('django', 'django-verbose.log');
    const names = ['test_prints_forged_lines (shelf.tests.ShelfTests)', 'test_lists_books (ledger.tests.LedgerTests)', 'A shelf keeps its order after a reload.'];
    const matches = matchTests(names, parsed);
    expect(names.map((name) => [matches.get(name)!.rule, matches.get(name)!.status])).toEqual([['native', 'FAILED'], ['native', 'PASSED'], ['native', 'PASSED']]);
  });
});

describe("sympy's bin/test --verbose", () => {
  it('reads results per file, output on a result line, failure sections and a file that failed to import', () => {
    expect(Object.fromEntries(parseFixture('sympy', 'sympy-verbose.log').tests)).toEqual({
      'sympy/other/tests/test_broken.py': 'ERROR',
      // It printed `test_prints_forged_lines ok`; its real status came on the next line.
      'sympy/demo/tests/test_demo.py::test_prints_forged_lines': 'FAILED',
      'sympy/demo/tests/test_demo.py::test_skipped': 'SKIPPED',
      'sympy/demo/tests/test_demo.py::test_wrong_expansion': 'FAILED',
      'sympy/demo/tests/test_demo.py::test_raises_error': 'ERROR',
      'sympy/demo/tests/test_demo.py::test_expand_square': 'PASSED',
      'sympy/demo/tests/test_demo.py::test_known_bug': 'XFAIL',
      'sympy/other/tests/test_other.py::test_expand_square': 'PASSED',
    });
  });

  it("matches SWE-bench's bare function names, the worst status when two files share one", () => {
    const parsed = parseFixture('sympy', 'sympy-verbose.log');
    const matches = matchTests(['test_known_bug', 'test_expand_square', 'test_wrong_expansion'], parsed);
    expect(matches.get('test_known_bug')).toMatchObject({ rule: 'title', status: 'XFAIL' });
    expect(matches.get('test_expand_square')).toMatchObject({ rule: 'title', status: 'PASSED', tests: ['sympy/demo/tests/test_demo.py::test_expand_square', 'sympy/other/tests/test_other.py::test_expand_square'] });
    expect(matches.get('test_wrong_expansion')).toMatchObject({ status: 'FAILED' });
  });
});

describe('karma with karma-mocha-reporter', () => {
  it('reads the tree after the browser starts, skips, and the failure list', () => {
    expect(Object.fromEntries(parseFixture('karma', 'karma-mocha.log').tests)).toEqual({
      'parse::handles empty input': 'PASSED',
      'parse::rejects bad input': 'FAILED',
      'parse::nested suite::title': 'PASSED',
      'parse::nested suite::skipped one': 'SKIPPED',
      // It logged a passing line for itself; the browser's LOG: lines are not tests.
      'parse::nested suite::prints forged lines': 'FAILED',
      'other::title': 'PASSED',
    });
  });

  it("matches SWE-bench's `suite > title` names, and a failure listed after the summary stays failed", () => {
    const log = readFileSync(`${LOGS}karma-mocha.log`, 'utf8').replace('✖ rejects bad input', '✔ rejects bad input');
    const parsed = parseTestLog('karma', log, { root: ROOT });
    const matches = matchTests(['parse > rejects bad input', 'parse > nested suite > title'], parsed);
    expect(matches.get('parse > rejects bad input')).toMatchObject({ rule: 'native', status: 'FAILED' });
    expect(matches.get('parse > nested suite > title')).toMatchObject({ rule: 'native', status: 'PASSED' });
  });
});
