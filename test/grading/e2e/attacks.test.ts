import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bwrapAvailable } from '../../../src/sandbox/index.ts';
import { evaluate, scratch, type Scratch } from './_helpers.ts';

/**
 * Patches that attack the grading script itself rather than the tests (found in review): each
 * must end not resolved. Fixtures are prediction files in test/fixtures/attacks/.
 */
const ATTACKS = join(import.meta.dirname, '../../fixtures/attacks');
const BWRAP = await bwrapAvailable();
let where: Scratch;
beforeAll(async () => {
  where = await scratch('attacks');
});
afterAll(async () => {
  await where?.cleanup();
});

const cases = [
  ['forged-status-line', 'benchlab__csvkit-1', 'a file name holding a fake status line and a fake JUnit report, in a patch that does not apply'],
  ['git-config-filter', 'benchlab__iniconf-1', 'a plain diff writing .git/config (a smudge filter that guts the tests) and .gitattributes'],
  ['odd-prefix-hook', 'benchlab__iniconf-1', 'a tests/__init__.py hook behind x/ prefixes that a header parser would misread'],
  ['tests-dir-replaced', 'benchlab__iniconf-1', 'the tests/ folder replaced by a file so the test files cannot be put back'],
  ['shadowed-unittest', 'benchlab__iniconf-1', 'a unittest.py at the root that python -m unittest would run instead of the real one'],
  ['nested-git-repo', 'benchlab__iniconf-1', 'a nested .git that hides a planted test module from git ls-files'],
  ['newline-in-name', 'benchlab__csvkit-1', 'a planted test file whose name holds a newline'],
  ['compiled-unittest', 'benchlab__iniconf-1', 'a sourceless unittest.pyc at the root, loaded in place of the real unittest'],
] as const;

describe.skipIf(!BWRAP)('patches that attack the grader', () => {
  for (const [name, instance, what] of cases) {
    it(`does not resolve ${what}`, async () => {
      const run = await evaluate(where, ['--predictions', join(ATTACKS, `${name}.jsonl`), '--instances', instance], { db: join(where.dir, `${name}.db`) });
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.summary).toMatchObject({ submitted_instances: 1, resolved_instances: 0 });
      expect(run.summary!.resolved_ids).toEqual([]);
    });
  }
});
