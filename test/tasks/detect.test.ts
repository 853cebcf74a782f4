import { describe, expect, it } from 'vitest';
import { detectTestCommand } from '../../src/tasks/_detect.ts';
import type { RepoFiles } from '../../src/tasks/_repo-files.ts';

/** A repository held in memory: path -> text. */
function repo(files: Record<string, string>): RepoFiles {
  return { where: 'memory', paths: Object.keys(files).sort(), read: (path) => files[path] };
}

const pkg = (scripts: Record<string, string>, devDependencies: Record<string, string> = {}) => JSON.stringify({ name: 'x', scripts, devDependencies });
const PATCH = 'diff --git a/x b/x\n';

function detect(files: Record<string, string>, testFiles: string[], patch = PATCH) {
  const found = detectTestCommand(repo(files), testFiles, patch);
  if ('reason' in found) throw new Error(`not detected: ${found.reason}; looked at ${found.lookedAt.join('; ')}`);
  return found;
}

describe('detecting the test runner of a JavaScript repository', () => {
  it('keeps mocha\'s options from the test script (--require, --timeout), replaces its reporter, and runs the test patch\'s files', () => {
    const found = detect({ 'package.json': pkg({ test: 'npm run lint && mocha --require test/setup.js --timeout 5000 --reporter dot --recursive test/', lint: 'eslint .' }) }, ['test/a.spec.js', 'test/fixtures/data.js']);
    expect(found.test_cmd).toBe('export PATH="$PWD/node_modules/.bin:$PATH"; mocha --require test/setup.js --timeout 5000 --recursive --reporter json test/a.spec.js');
    expect(found.log_parser).toBe('mocha-json');
    expect(found.rule).toContain("package.json's scripts.test");
  });

  it('keeps jest\'s config and environment variables, drops coverage and watch, and runs the files by path', () => {
    const found = detect({ 'package.json': pkg({ test: 'cross-env NODE_ENV=test jest -c jest.config.json --coverage --watchAll=false' }, { jest: '^30.0.0' }), 'package-lock.json': '{}' }, ['src/__tests__/util.js', 'src/util.js']);
    expect(found.test_cmd).toBe('export PATH="$PWD/node_modules/.bin:$PATH"; NODE_ENV=test jest -c jest.config.json --ci --json --runTestsByPath src/__tests__/util.js');
    expect(found.install).toBe('npm ci --no-audit --no-fund');
  });

  it('follows `npm run` into the script that runs vitest, and runs it once with its JSON reporter', () => {
    const found = detect({ 'package.json': pkg({ test: 'npm run test:unit', 'test:unit': 'vitest --config vitest.config.ts --reporter verbose' }) }, ['test/a.test.ts']);
    expect(found.test_cmd).toBe('export PATH="$PWD/node_modules/.bin:$PATH"; vitest run --config vitest.config.ts --reporter=json test/a.test.ts');
    expect(found.log_parser).toBe('vitest-json');
  });

  it('runs node:test with its node options and the junit reporter', () => {
    const found = detect({ 'package.json': pkg({ test: 'node --import ./register.js --test --test-reporter=spec test/' }) }, ['test/parse.test.js']);
    expect(found.test_cmd).toBe('export PATH="$PWD/node_modules/.bin:$PATH"; node --import ./register.js --test --test-reporter=junit test/parse.test.js');
    expect(found.log_parser).toBe('node-junit');
  });

  it('runs tap without its coverage check, by the version the repository uses', () => {
    expect(detect({ 'package.json': pkg({ test: 'tap' }, { tap: '^16.3.0' }) }, ['test/a.js']).test_cmd).toContain('tap --no-coverage --reporter=tap test/a.js');
    expect(detect({ 'package.json': pkg({ test: 'tap' }, { tap: '^21.0.0' }) }, ['test/a.js']).test_cmd).toContain('tap --disable-coverage --reporter=tap test/a.js');
  });

  it('falls back on the runner listed in devDependencies when no script runs one', () => {
    const found = detect({ 'package.json': pkg({ test: 'echo "no tests"' }, { jest: '^29.0.0' }), 'yarn.lock': '' }, ['lib/x.test.js']);
    expect(found.test_cmd).toContain('jest --ci --json --runTestsByPath lib/x.test.js');
    expect(found.rule).toContain('dependencies');
  });

  it('runs what the script runs when the test patch holds no test file of its own', () => {
    const found = detect({ 'package.json': pkg({ test: 'mocha test/unit' }) }, ['test/fixtures/input.json']);
    expect(found.test_cmd).toMatch(/--reporter json test\/unit$/);
    expect(found.rule).toContain('whole suite');
  });

  it('names what it looked at when no runner is found', () => {
    const found = detectTestCommand(repo({ 'package.json': pkg({ test: 'make check' }), 'README.md': '' }), ['spec/a.js'], PATCH);
    expect(found).toMatchObject({ reason: expect.stringContaining('jest, vitest, mocha') });
    expect(('lookedAt' in found ? found.lookedAt : []).join('; ')).toContain('package.json scripts.test ("make check")');
  });
});

describe('detecting the test runner of a Python repository', () => {
  it('runs pytest when its configuration is there, with the src layout on the import path', () => {
    const found = detect({ 'pyproject.toml': '[tool.pytest.ini_options]\ntestpaths = ["tests"]\n', 'src/pkg/__init__.py': '', 'tests/test_a.py': '' }, ['tests/test_a.py', 'tests/data/in.txt']);
    expect(found.test_cmd).toBe('PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" python3 -m pytest -rA --tb=short -p no:cacheprovider tests/test_a.py');
    expect(found.log_parser).toBe('pytest');
    expect(found.rule).toContain('src/ on the import path');
  });

  it('takes a test patch that imports pytest, or a conftest.py, as pytest', () => {
    const patch = 'diff --git a/tests/test_b.py b/tests/test_b.py\n+import pytest\n';
    expect(detect({ 'pkg/__init__.py': '', 'tests/test_b.py': '' }, ['tests/test_b.py'], patch).log_parser).toBe('pytest');
    expect(detect({ 'pkg/__init__.py': '', 'conftest.py': '', 'tests/test_b.py': '' }, ['tests/test_b.py']).log_parser).toBe('pytest');
  });

  it('runs unittest on dotted modules when nothing names pytest and the tests are TestCase classes', () => {
    const module = 'import unittest\n\nclass TestC(unittest.TestCase):\n    def test_a(self):\n        pass\n';
    const found = detect({ 'pkg/__init__.py': '', 'tests/__init__.py': '', 'tests/test_c.py': module }, ['tests/test_c.py']);
    expect(found.test_cmd).toBe('python3 -m unittest -v tests.test_c');
    expect(found.log_parser).toBe('unittest');
  });

  it('runs plain test functions with pytest even without any pytest configuration', () => {
    const patch = 'diff --git a/tests/test_new.py b/tests/test_new.py\nnew file mode 100644\n--- /dev/null\n+++ b/tests/test_new.py\n+from pkg import f\n+\n+def test_f():\n+    assert f() == 1\n';
    const found = detect({ 'pkg/__init__.py': '', 'tests/test_old.py': 'import unittest\n' }, ['tests/test_new.py'], patch);
    expect(found.log_parser).toBe('pytest');
    expect(found.rule).toContain('test functions outside unittest classes');
  });

  it('prefers the language of the test patch when a repository has both', () => {
    const files = { 'package.json': pkg({ test: 'jest' }), 'setup.cfg': '[tool:pytest]\n', 'py/test_x.py': '' };
    expect(detect(files, ['py/test_x.py']).log_parser).toBe('pytest');
    expect(detect(files, ['js/x.test.js']).log_parser).toBe('jest-json');
  });
});

describe('what a test script runs before its runner', () => {
  it('keeps build steps (pretest, `npm run build` expanded) and leaves linters, formatters and type checks out', () => {
    const found = detect({
      'package.json': pkg({ pretest: 'npm run lint && npm run build', lint: 'eslint .', build: 'tsc -p tsconfig.build.json', test: 'prettier --check . && tsc --noEmit && yarn jest --config jest.config.ts' }),
    }, ['test/a.test.ts']);
    expect(found.test_cmd).toBe('export PATH="$PWD/node_modules/.bin:$PATH"; tsc -p tsconfig.build.json && jest --config jest.config.ts --ci --json --runTestsByPath test/a.test.ts');
    expect(found.rule).toContain('after `tsc -p tsconfig.build.json`');
  });
});

describe('installing a JavaScript repository\'s dependencies', () => {
  it('uses the lock file\'s package manager, and installs nothing for a package.json without dependencies', () => {
    expect(detect({ 'package.json': pkg({ test: 'mocha' }, { mocha: '^11' }) }, ['test/a.js']).install).toBe('npm install --no-audit --no-fund');
    expect(detect({ 'package.json': pkg({ test: 'mocha' }, { mocha: '^11' }), 'pnpm-lock.yaml': '' }, ['test/a.js']).install).toContain('pnpm');
    expect(detect({ 'package.json': pkg({ test: 'node --test' }) }, ['test/a.test.js']).install).toBeUndefined();
  });
});
