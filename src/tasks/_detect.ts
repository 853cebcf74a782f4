import { posix } from 'node:path';
import type { RepoFiles } from './_repo-files.ts';
import { shellWord } from '../shell.ts';

/** A test command found in the repository itself: how to run the test patch's files, and why. */
export type DetectedCommand = { test_cmd: string; log_parser: string; install?: string; rule: string };

/** Why nothing was found: the files looked at, for the error message. */
export type DetectionFailure = { lookedAt: string[]; reason: string };

const JS_SOURCE = /\.[cm]?[jt]sx?$/;
const PYTHON_CONFIGS = ['pyproject.toml', 'setup.cfg', 'tox.ini', 'pytest.ini', 'setup.py'];

/**
 * The runner of a repository at its base commit, run as the repository's own test script runs
 * it (its options kept, its reporter replaced by a structured one), on the test patch's files.
 * JavaScript: `package.json` (scripts.test, followed through `npm run`, then devDependencies)
 * for jest, vitest, mocha, node:test and tap. Python: pytest when any of its configuration or an
 * `import pytest` is there, else unittest when there are test modules; a `src/` layout is put
 * on the import path.
 */
export function detectTestCommand(files: RepoFiles, testFiles: string[], testPatch: string): DetectedCommand | DetectionFailure {
  const lookedAt: string[] = [];
  const pythonTests = testFiles.filter((path) => path.endsWith('.py'));
  const jsTests = testFiles.filter((path) => JS_SOURCE.test(path));
  const packageJson = files.read('package.json');
  lookedAt.push(`package.json (${packageJson === undefined ? 'absent' : 'present'})`);
  // The language of the test patch decides when a repository has both.
  if (packageJson !== undefined && !(pythonTests.length > 0 && jsTests.length === 0)) {
    const found = detectJavaScript(files, packageJson, jsTests);
    if (!('reason' in found)) return found;
    lookedAt.push(...found.lookedAt);
    if (pythonTests.length === 0) return { lookedAt, reason: found.reason };
  }
  const found = detectPython(files, pythonTests, testPatch);
  if (!('reason' in found)) return found;
  return { lookedAt: [...lookedAt, ...found.lookedAt], reason: found.reason };
}

// ---------------------------------------------------------------- JavaScript

type Runner = 'jest' | 'vitest' | 'mocha' | 'node-test' | 'tap';
type Invocation = {
  runner: Runner;
  env: string[];
  args: string[];
  script: string;
  /** What the scripts run before the runner (a build, say), lint and formatting left out. */
  setup: string[];
};

const RUNNER_PACKAGES: [string, Runner][] = [['vitest', 'vitest'], ['jest', 'jest'], ['mocha', 'mocha'], ['tap', 'tap']];

function detectJavaScript(files: RepoFiles, text: string, jsTests: string[]): DetectedCommand | DetectionFailure {
  let manifest: { scripts?: Record<string, string>; devDependencies?: Record<string, string>; dependencies?: Record<string, string> };
  try {
    manifest = JSON.parse(text);
  } catch {
    return { lookedAt: [], reason: 'package.json is not valid JSON' };
  }
  const scripts = manifest.scripts ?? {};
  const dependencies = { ...manifest.dependencies, ...manifest.devDependencies };
  const found = findInvocation(scripts, 'test', 0);
  // npm runs `pretest` before `test`.
  const invocation = found && { ...found, setup: [...setupCommands(scripts, splitSegments(scripts.pretest ?? ''), 0), ...found.setup] };
  const lookedAt = [`package.json scripts.test (${scripts.test === undefined ? 'absent' : JSON.stringify(scripts.test)})`];
  let chosen = invocation;
  let rule = invocation ? `${invocation.runner} as package.json's ${invocation.script} runs it` : '';
  if (!chosen) {
    const listed = RUNNER_PACKAGES.find(([name]) => dependencies[name] !== undefined);
    lookedAt.push(`package.json devDependencies (${Object.keys(manifest.devDependencies ?? {}).join(', ') || 'none'})`);
    if (listed) {
      chosen = { runner: listed[1], env: [], args: [], script: 'devDependencies', setup: [] };
      rule = `${listed[1]}, listed in package.json's dependencies (no test script runs it)`;
    }
  }
  if (!chosen) return { lookedAt, reason: 'no test script runs jest, vitest, mocha, node --test or tap, and none of them is a dependency' };
  const selected = jsTests.filter((path) => isTestFileFor(chosen.runner, path, chosen.args));
  const command = buildJsCommand(chosen, selected, dependencies);
  return {
    ...command,
    ...(detectInstall(files) ? { install: detectInstall(files) } : {}),
    rule: `${rule}, ${selected.length ? `on the test patch's ${selected.length === 1 ? 'file' : 'files'}` : 'on the whole suite (the test patch has no test file of its own)'}${chosen.setup.length ? `, after ${chosen.setup.map((c) => `\`${c}\``).join(', ')}` : ''}`,
  };
}

/** The first segment of a script (following `npm run`/`yarn`/`pnpm` into other scripts) that starts a known runner. */
function findInvocation(scripts: Record<string, string>, name: string, depth: number): Invocation | undefined {
  const script = scripts[name];
  if (script === undefined || depth > 4) return undefined;
  const before: string[][] = [];
  for (const segment of splitSegments(script)) {
    const words = [...segment];
    const env: string[] = [];
    while (words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) env.push(words.shift()!);
    // Wrappers that only set things up: their own options end at the next runner word.
    while (words.length && ['npx', 'cross-env', 'nyc', 'c8', 'dotenv', 'env', '--'].includes(words[0]!)) {
      words.shift();
      while (words.length && (words[0]!.startsWith('-') || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!))) {
        const word = words.shift()!;
        if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) env.push(word);
      }
    }
    // `yarn jest`, `pnpm exec vitest`, `npm exec mocha`: the package manager starting a binary.
    if (['yarn', 'pnpm', 'npm'].includes(words[0] ?? '')) {
      const offset = words[1] === 'exec' ? 2 : words[0] !== 'npm' ? 1 : -1;
      if (offset > 0 && words[offset] && runnerOf(words[offset]!, words.slice(offset + 1)) && scripts[words[offset]!] === undefined) words.splice(0, offset);
    }
    const head = words[0];
    if (!head) continue;
    const runner = runnerOf(head, words.slice(1));
    const setup = () => setupCommands(scripts, before, depth);
    if (runner) return { runner, env, args: words.slice(1).filter((word) => !(runner === 'node-test' && word === '--test')), script: `scripts.${name}`, setup: setup() };
    const nested = nestedScript(words);
    if (nested) {
      const found = findInvocation(scripts, nested, depth + 1);
      if (found) return { ...found, env: [...env, ...found.env], setup: [...setup(), ...found.setup] };
    }
    before.push(segment);
  }
  return undefined;
}

/** Linters, formatters and type checks: not needed to run tests, and a patch's style must not fail them. */
const CHECK_TOOLS = /^(eslint|prettier|standard|semistandard|xo|tslint|stylelint|jshint|jscs|biome|oxlint|dprint|tsd|size-limit|publint|attw|markdownlint|remark|lockfile-lint|check-dts|npm-run-all|run-s|run-p|echo|true)$/;
const CHECK_SCRIPTS = /lint|format|prettier|style|types?\b|typecheck|tsd|size|audit|coverage|docs?\b|spell/i;

/** Segments that run before the runner, `npm run x` expanded into x's own commands, checks left out. */
function setupCommands(scripts: Record<string, string>, segments: string[][], depth: number): string[] {
  const commands: string[] = [];
  for (const words of segments) {
    const nested = nestedScript(words);
    if (nested) {
      if (CHECK_SCRIPTS.test(nested) || scripts[nested] === undefined || depth > 4) continue;
      commands.push(...setupCommands(scripts, splitSegments(scripts[nested]!), depth + 1));
      continue;
    }
    const tool = words.find((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word) && !['npx', 'cross-env'].includes(word));
    if (!tool || CHECK_TOOLS.test(posix.basename(tool)) || (posix.basename(tool) === 'tsc' && words.includes('--noEmit'))) continue;
    commands.push(words.map(shellWord).join(' '));
  }
  return commands;
}

function runnerOf(word: string, rest: string[]): Runner | undefined {
  const base = posix.basename(word);
  if (base === 'jest') return 'jest';
  if (base === 'vitest') return 'vitest';
  if (base === 'mocha' || base === '_mocha') return 'mocha';
  if (base === 'tap') return 'tap';
  if (base === 'node' && rest.includes('--test')) return 'node-test';
  return undefined;
}

/** `npm run x`, `npm test`, `yarn x`, `pnpm run x`: the script they start. */
function nestedScript(words: string[]): string | undefined {
  const [tool, first, second] = words;
  if (tool === 'npm' || tool === 'pnpm') {
    if (first === 'test' || first === 't') return 'test';
    if (first === 'run' || first === 'run-script') return second;
  }
  if (tool === 'yarn') return first === 'run' ? second : first;
  return undefined;
}

/** Options that select tests, pick a reporter, watch or measure coverage: replaced by ours. */
const DROPPED_OPTIONS: Record<Runner, RegExp> = {
  jest: /^--?(json|outputFile|reporters|watch|watchAll|coverage|collectCoverage|coverageReporters|t|testNamePattern|testPathPattern|testPathPatterns|findRelatedTests|o|onlyChanged|changedSince|listTests|ci)$/,
  vitest: /^--?(reporter|outputFile(\..*)?|watch|w|coverage(\..*)?|t|testNamePattern|ui|silent|run|changed|related)$/,
  mocha: /^--?(reporter|R|reporter-options?|O|watch|w|grep|g|fgrep|f|invert|i|spec)$/,
  'node-test': /^--(test-reporter|test-reporter-destination|watch|test-name-pattern|test-only|test-skip-pattern)$/,
  tap: /^--?(reporter|R|watch|w|grep|g|coverage-report|timeout-report)$/,
};

/** Options known to take no value, so a word after them is a test path, not their value. */
const FLAG_OPTIONS = /^--?(runInBand|i|detectOpenHandles|forceExit|passWithNoTests|no-cache|bail|b|recursive|exit|allow-uncaught|full-trace|check-leaks|forbid-only|forbid-pending|parallel|p|sort|S|inline-diffs|globals|typecheck|experimental-.*|no-.*|test|disable-coverage|ci|silent|verbose|colors|watch|watchAll|json|coverage|run|listTests|onlyChanged|invert|ui|changed)$/;

/** Node options that take their value in the next word. */
const NODE_VALUE_OPTIONS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader', '--conditions', '-C', '--test-concurrency', '--test-timeout', '--env-file']);

function buildJsCommand(invocation: Invocation, testFiles: string[], dependencies: Record<string, string>): { test_cmd: string; log_parser: string } {
  const { runner } = invocation;
  let words = [...invocation.args];
  if (runner === 'vitest' && words[0] && /^(run|watch|dev|related)$/.test(words[0])) words.shift();
  const kept: string[] = [];
  const positionals: string[] = [];
  for (let index = 0; index < words.length; index++) {
    const word = words[index]!;
    const [name, inlineValue] = word.startsWith('-') ? splitOption(word) : [word, undefined];
    if (!word.startsWith('-')) {
      positionals.push(word);
      continue;
    }
    const takesValue = inlineValue === undefined && (runner === 'node-test' ? NODE_VALUE_OPTIONS.has(name) : !FLAG_OPTIONS.test(name))
      && words[index + 1] !== undefined && !words[index + 1]!.startsWith('-');
    const value = takesValue ? words[++index] : undefined;
    if (DROPPED_OPTIONS[runner].test(name)) continue;
    kept.push(word, ...(value === undefined ? [] : [value]));
  }
  // Without files of its own, the run covers what the script covers.
  const targets = testFiles.length ? testFiles : positionals;
  let command: string[];
  let parser: string;
  switch (runner) {
    case 'jest':
      command = ['jest', ...kept, '--ci', '--json', ...(testFiles.length ? ['--runTestsByPath'] : []), ...targets];
      parser = 'jest-json';
      break;
    case 'vitest':
      // JSON on stdout: the output is a socket, which /dev/stdout cannot be opened on.
      command = ['vitest', 'run', ...kept, '--reporter=json', ...targets];
      parser = 'vitest-json';
      break;
    case 'mocha':
      command = ['mocha', ...kept, '--reporter', 'json', ...targets];
      parser = 'mocha-json';
      break;
    case 'tap': {
      const major = Number(/(\d+)/.exec(dependencies.tap ?? '')?.[1] ?? 18);
      command = ['tap', ...kept, major >= 18 ? '--disable-coverage' : '--no-coverage', '--reporter=tap', ...targets];
      parser = 'tap';
      break;
    }
    case 'node-test':
      command = ['node', ...kept, '--test', '--test-reporter=junit', ...targets];
      parser = 'node-junit';
      break;
  }
  // The repository's own binaries first, as npm puts them for its scripts.
  const prefix = 'export PATH="$PWD/node_modules/.bin:$PATH";';
  const run = [...invocation.env.map(shellWord), ...command.map(shellWord)].join(' ');
  return { test_cmd: [prefix, ...invocation.setup.map((step) => `${step} &&`), run].join(' '), log_parser: parser };
}

function splitOption(word: string): [string, string | undefined] {
  const equals = word.indexOf('=');
  return equals > 0 ? [word.slice(0, equals), word.slice(equals + 1)] : [word, undefined];
}

/** Whether the runner would take this file as a test file by its own conventions (or the script's folders). */
function isTestFileFor(runner: Runner, path: string, scriptArgs: string[]): boolean {
  if (path.split('/').includes('node_modules')) return false;
  const base = posix.basename(path);
  if (/\.(test|spec)\.[cm]?[jt]sx?$/.test(base)) return true;
  const dirs = path.split('/').slice(0, -1);
  if (runner === 'jest' || runner === 'vitest') return dirs.includes('__tests__');
  if (runner === 'node-test' && /^(test-.*|.*[-_]test|test)\.[cm]?[jt]s$/.test(base)) return true;
  if (dirs.includes('fixtures') || dirs.includes('helpers') || dirs.includes('__fixtures__')) return false;
  // Folders the script names, else the runners' default `test/`.
  const folders = scriptArgs.filter((arg) => !arg.startsWith('-') && !/[*?{]/.test(arg)).map((arg) => arg.replace(/^\.\//, '').replace(/\/$/, ''));
  const roots = folders.length ? folders : ['test', 'tests'];
  return roots.some((root) => path === root || path.startsWith(`${root}/`));
}

/** For a package.json that lists dependencies, the install its lock file calls for; undefined when there is nothing to install. */
export function detectInstall(files: RepoFiles): string | undefined {
  const text = files.read('package.json');
  if (text === undefined) return undefined;
  try {
    const manifest = JSON.parse(text) as Record<string, unknown>;
    const listed = ['dependencies', 'devDependencies', 'optionalDependencies'].some((field) => Object.keys((manifest[field] as object | undefined) ?? {}).length > 0);
    return listed ? installCommand(files) : undefined;
  } catch {
    return undefined;
  }
}

/** npm's install for the lock file the repository has (its own package manager where it has one). */
function installCommand(files: RepoFiles): string {
  if (files.read('pnpm-lock.yaml') !== undefined) return 'npx --yes pnpm@9 install --frozen-lockfile';
  if (files.read('yarn.lock') !== undefined) return 'npx --yes yarn@1 install --frozen-lockfile --ignore-engines';
  if (files.read('package-lock.json') !== undefined || files.read('npm-shrinkwrap.json') !== undefined) return 'npm ci --no-audit --no-fund';
  return 'npm install --no-audit --no-fund';
}

// ---------------------------------------------------------------- Python

function detectPython(files: RepoFiles, pythonTests: string[], testPatch: string): DetectedCommand | DetectionFailure {
  const lookedAt: string[] = [];
  const signals: string[] = [];
  for (const name of PYTHON_CONFIGS) {
    const text = files.read(name);
    lookedAt.push(`${name} (${text === undefined ? 'absent' : 'present'})`);
    if (text === undefined) continue;
    if (name === 'pytest.ini') signals.push('pytest.ini');
    else if (name === 'pyproject.toml' && /\[tool\.pytest|\bpytest\b/.test(text)) signals.push('pyproject.toml names pytest');
    else if (name === 'setup.cfg' && /\[tool:pytest\]|\bpytest\b/.test(text)) signals.push('setup.cfg names pytest');
    else if (name === 'tox.ini' && /\[pytest\]|\bpytest\b/.test(text)) signals.push('tox.ini names pytest');
  }
  if (files.paths.some((path) => posix.basename(path) === 'conftest.py')) signals.push('a conftest.py');
  if (/^\+.*\b(import pytest|from pytest import|@pytest\.)/m.test(testPatch)) signals.push('the test patch uses pytest');
  const testFolder = files.paths.some((path) => /^(tests?|testing)\//.test(path));
  lookedAt.push(`a tests folder (${testFolder ? 'present' : 'absent'})`);
  const selected = pythonTests.filter(isPythonTestFile);
  const anyPython = files.paths.some((path) => path.endsWith('.py')) || selected.length > 0;
  if (!anyPython) return { lookedAt, reason: 'it has no Python files either' };
  if (!signals.length && !testFolder && !selected.length) return { lookedAt, reason: 'no pytest configuration, no tests folder and no test file in the test patch' };
  const importPath = sourceLayout(files) ? 'PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" ' : '';
  const layout = importPath ? ', src/ on the import path' : '';
  const on = selected.length ? ` on the test patch's ${selected.length === 1 ? 'file' : 'files'}` : ' on the whole suite';
  // Without any pytest configuration, plain test functions still need pytest: unittest runs only TestCase classes.
  if (!signals.length && !selected.every((path) => isUnittestModule(files.read(path) ?? addedLines(testPatch, path)))) signals.push('test functions outside unittest classes');
  if (signals.length) {
    return {
      // The -rA summary, as SWE-bench reads it: a report file would need a path outside the log.
      test_cmd: `${importPath}python3 -m pytest -rA --tb=short -p no:cacheprovider ${selected.map(shellWord).join(' ')}`.trimEnd(),
      log_parser: 'pytest',
      rule: `pytest (${signals.join(', ')})${on}${layout}`,
    };
  }
  const modules = selected.map((path) => path.replace(/\.py$/, '').replaceAll('/', '.'));
  return {
    test_cmd: `${importPath}python3 -m unittest -v ${modules.length ? modules.map(shellWord).join(' ') : 'discover'}`.trimEnd(),
    log_parser: 'unittest',
    rule: `unittest (test modules without any pytest configuration)${on}${layout}`,
  };
}

/** A module of unittest classes only: it imports unittest, defines a TestCase, and no module-level test function. */
function isUnittestModule(text: string): boolean {
  return /\bunittest\b/.test(text) && /^class \w+\([^)]*TestCase[^)]*\)/m.test(text) && !/^(async )?def test/m.test(text);
}

/** The lines a patch adds to one file (its content when the patch creates it). */
function addedLines(patch: string, path: string): string {
  const lines: string[] = [];
  let inFile = false;
  for (const line of patch.split('\n')) {
    if (line.startsWith('diff --git ')) inFile = line.endsWith(` b/${path}`);
    else if (inFile && line.startsWith('+') && !line.startsWith('+++')) lines.push(line.slice(1));
  }
  return lines.join('\n');
}

function isPythonTestFile(path: string): boolean {
  const base = posix.basename(path);
  return base !== 'conftest.py' && base !== '__init__.py' && (/^test.*\.py$/.test(base) || /_test\.py$/.test(base) || /(^|\/)tests?\//.test(path));
}

/** Packages under `src/` rather than at the top: they import only with `src` on the path. */
function sourceLayout(files: RepoFiles): boolean {
  return files.paths.some((path) => /^src\/[^/]+\/__init__\.py$/.test(path) || /^src\/[^/]+\.py$/.test(path));
}

// ---------------------------------------------------------------- shell words

/** A script split at `&&`, `||`, `;` and `|` into word lists (quotes honoured, no expansion). */
function splitSegments(script: string): string[][] {
  const segments: string[][] = [[]];
  let word = '';
  let inWord = false;
  let quote: string | undefined;
  const end = () => {
    if (inWord) segments.at(-1)!.push(word);
    word = '';
    inWord = false;
  };
  for (let index = 0; index < script.length; index++) {
    const char = script[index]!;
    if (quote) {
      if (char === quote) quote = undefined;
      else if (char === '\\' && quote === '"' && index + 1 < script.length) word += script[++index];
      else word += char;
      continue;
    }
    if (char === '"' || char === "'") {
      quote = char;
      inWord = true;
    } else if (char === '\\' && index + 1 < script.length) {
      word += script[++index];
      inWord = true;
    } else if (/\s/.test(char)) end();
    else if (char === '&' || char === '|' || char === ';') {
      end();
      if (script[index + 1] === char) index++;
      if (segments.at(-1)!.length) segments.push([]);
    } else {
      word += char;
      inWord = true;
    }
  }
  end();
  return segments.filter((segment) => segment.length > 0);
}
