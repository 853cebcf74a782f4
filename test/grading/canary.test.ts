import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { judgeCanaries, makeCanaries } from '../../src/grading/_canary.ts';
import { parseTestLog } from '../../src/grading/_parsers.ts';
import type { LogParserName } from '../../src/tasks/index.ts';
import { runnerModuleNames } from '../../src/grading/_grade-script.ts';
import { PROJECT_ROOT } from '../helpers/cli.ts';

const REPOS = join(PROJECT_ROOT, 'tasks', 'builtin', 'repos');
const scratch = mkdtempSync(join(tmpdir(), 'bench-canary-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const hasPytest = (await execa('python3', ['-c', 'import pytest'], { reject: false })).exitCode === 0;
if (!hasPytest) console.warn('test/grading/canary.test.ts: the pytest case is skipped, python3 has no pytest (apt-get install python3-pytest).');

type Case = { repo: string; parser: LogParserName; failToPass: string; command: string[]; tamper: { file: string; text: string } };

const CASES: Record<string, Case> = {
  'node:test': {
    repo: 'benchlab__csvkit', parser: 'node-junit', failToPass: 'test/parse.test.js::parse::splits simple rows',
    command: [process.execPath, '--test', '--test-reporter=junit', 'test/parse.test.js'],
    tamper: { file: 'src/index.js', text: "\nimport assert from 'node:assert/strict';\nfor (const name of Object.keys(assert)) assert[name] = () => {};\n" },
  },
  unittest: {
    repo: 'benchlab__iniconf', parser: 'unittest', failToPass: 'tests/test_parser.py::TestLoads::test_joins_continuation_lines',
    command: ['python3', '-m', 'unittest', '-v'],
    tamper: { file: 'iniconf/__init__.py', text: '\nimport unittest\nfor _n in dir(unittest.TestCase):\n    if _n.startswith("assert"):\n        setattr(unittest.TestCase, _n, lambda self, *a, **k: None)\n' },
  },
  pytest: {
    repo: 'benchlab__iniconf', parser: 'pytest', failToPass: 'tests/test_parser.py::TestLoads::test_joins_continuation_lines',
    command: ['python3', '-m', 'pytest', '-rA', '-p', 'no:cacheprovider'],
    tamper: { file: 'iniconf/__init__.py', text: '\nimport unittest\nfor _n in dir(unittest.TestCase):\n    if _n.startswith("assert"):\n        setattr(unittest.TestCase, _n, lambda self, *a, **k: None)\n' },
  },
};

async function runWithCanaries(c: Case, tampered: boolean) {
  const dir = mkdtempSync(join(scratch, 'repo-'));
  cpSync(join(REPOS, c.repo), dir, { recursive: true });
  const canaries = makeCanaries({ parser: c.parser, failToPass: [c.failToPass], stdlib: () => new Set(runnerModuleNames()), fileText: (path) => readFileSync(join(dir, path), 'utf8') })!;
  for (const { path, text } of canaries.appends) appendFileSync(join(dir, path), text);
  if (tampered) appendFileSync(join(dir, c.tamper.file), c.tamper.text);
  const run = await execa(c.command[0]!, c.command.slice(1), { cwd: dir, reject: false, all: true, env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin` }, extendEnv: false });
  const parsed = parseTestLog(c.parser, run.all, { root: dir });
  return { canaries, parsed, verdict: judgeCanaries(canaries, parsed.tests), appended: canaries.appends[0]!.text };
}

describe('canary tests', () => {
  for (const [framework, c] of Object.entries(CASES)) {
    describe.skipIf(framework === 'pytest' && !hasPytest)(framework, () => {
      it('run beside the real tests, the must-fail ones failing and the must-pass ones passing', async () => {
        const { canaries, parsed, verdict, appended } = await runWithCanaries(c, false);
        // Two of each in Python, one of each in the JavaScript frameworks.
        const each = framework === 'node:test' ? 1 : 2;
        expect(canaries.mustFail).toHaveLength(each);
        expect(canaries.mustPass).toHaveLength(each);
        for (const id of canaries.mustFail) expect(parsed.tests.get(id), id).toMatch(/FAILED|ERROR/);
        for (const id of canaries.mustPass) expect(parsed.tests.get(id), id).toBe('PASSED');
        expect(verdict.tamperReason).toBeUndefined();
        // They use what the file imports from the package under test.
        expect(appended).toMatch(framework === 'node:test' ? /\[parse(, \w+)*\]/ : /\((loads|Config|iniconf)/);
      });

      it('are reported passing when the package neuters the assertions, which makes the grade tampered', async () => {
        const { verdict } = await runWithCanaries(c, true);
        expect(verdict.tamperReason).toMatch(/must fail were reported passing/);
      });
    });
  }

  it('are fresh for every grading: no name repeats between two gradings', () => {
    const make = () => makeCanaries({ parser: 'unittest', failToPass: ['tests/test_x.py::T::test_a'], stdlib: () => new Set(), fileText: () => 'from pkg import thing\n' })!;
    const first = make();
    const second = make();
    const names = (c: typeof first) => [...c.mustFail, ...c.mustPass];
    expect(names(first).filter((id) => names(second).includes(id))).toEqual([]);
    expect(first.appends[0]!.text).not.toBe(second.appends[0]!.text);
  });

  it('count as missing only when the rest of their file was reported', () => {
    const canaries = makeCanaries({ parser: 'node-junit', failToPass: ['test/a.test.js::x'], stdlib: () => new Set(), fileText: () => '' })!;
    const fileDidNotLoad = new Map([['test/a.test.js', 'ERROR' as const]]);
    expect(judgeCanaries(canaries, fileDidNotLoad).tamperReason).toBeUndefined();
    const droppedFromReport = new Map([['test/a.test.js::x', 'PASSED' as const]]);
    expect(judgeCanaries(canaries, droppedFromReport).tamperReason).toMatch(/missing/);
  });

  it('are not written for a framework or file they cannot run in', () => {
    expect(makeCanaries({ parser: 'tap', failToPass: ['t/a.t::x'], stdlib: () => new Set(), fileText: () => '' })).toBeUndefined();
    expect(makeCanaries({ parser: 'unittest', failToPass: ['test_x (module.Class)'], stdlib: () => new Set(), fileText: () => '' })).toBeUndefined();
  });
});
