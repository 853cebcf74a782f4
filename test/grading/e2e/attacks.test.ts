import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bwrapAvailable } from '../../../src/sandbox/index.ts';
import { builtinInstance, copySuite, evaluate, scratch, storedAttempt, type EvalSummary, type Scratch, type ShownAttempt } from './_helpers.ts';

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

type Expected = { instance: string; outcome: 'unresolved' | 'tampered'; reverted?: RegExp; reason?: RegExp; fromChannel?: boolean };

/**
 * Patches that attack the report the grader reads, the runner's configuration, or the framework
 * from inside the process: one fixture per class, graded in two `bench eval` runs (the built-in
 * suite, and a copy whose iniconf instance runs under pytest).
 */
const REPORT_ATTACKS: Record<string, Expected> = {
  // The runner's report comes over its own channel: what the tests print, in comments or after it, is only shown.
  'forged-report-in-xml-comment': { instance: 'benchlab__csvkit-5', outcome: 'unresolved', fromChannel: true },
  'stdout-taken-over': { instance: 'benchlab__csvkit-2', outcome: 'unresolved', fromChannel: true },
  'second-summary-at-exit': { instance: 'benchlab__csvkit-3', outcome: 'unresolved', fromChannel: true },
  'flood-then-forged-report': { instance: 'benchlab__csvkit-4', outcome: 'unresolved', fromChannel: true },
  'python-stderr-rewritten-then-exit': { instance: 'benchlab__iniconf-1', outcome: 'unresolved', fromChannel: true },
  // Rewriting what the framework reports turns the canaries that must fail green as well.
  'node-child-protocol-rewritten': { instance: 'benchlab__csvkit-1', outcome: 'tampered', reason: /canary test\(s\) that must fail were reported passing/ },
  'homoglyph-top-level-package': { instance: 'benchlab__iniconf-2', outcome: 'unresolved', reverted: /niconf\/__init__\.py/ },
};
const PYTEST_ATTACKS: Record<string, Expected> = {
  'pytest-dot-pytest-ini': { instance: 'benchlab__iniconf-1', outcome: 'unresolved', reverted: /^\.pytest\.ini$/ },
  'pytest-pytest-ini': { instance: 'benchlab__iniconf-2', outcome: 'unresolved', reverted: /^pytest\.ini$/ },
  'pytest-pyproject-toml': { instance: 'benchlab__iniconf-3', outcome: 'unresolved', reverted: /^pyproject\.toml$/ },
  'pytest-setup-cfg': { instance: 'benchlab__iniconf-4', outcome: 'unresolved', reverted: /^setup\.cfg$/ },
  'pytest-tox-ini': { instance: 'benchlab__iniconf-5', outcome: 'unresolved', reverted: /^tox\.ini$/ },
  'dist-info-entry-point': { instance: 'benchlab__iniconf-6', outcome: 'unresolved', reverted: /^iniconf_speedups-1\.0\.dist-info\/entry_points\.txt$/ },
  'shadowed-runner-dependency': { instance: 'benchlab__iniconf-3', outcome: 'unresolved', reverted: /^iniconfig\.py$/ },
};

async function gradeFixtures(name: string, attacks: Record<string, Expected>, extra: object[] = [], suite?: string) {
  const rows = [...Object.keys(attacks).map((fixture) => readFileSync(join(ATTACKS, `${fixture}.jsonl`), 'utf8').trim()), ...extra.map((row) => JSON.stringify(row))];
  const preds = join(where.dir, `${name}.jsonl`);
  writeFileSync(preds, `${rows.join('\n')}\n`);
  const db = join(where.dir, `${name}.db`);
  const instances = [...new Set([...Object.values(attacks).map((a) => a.instance), ...extra.map((row) => (row as { instance_id: string }).instance_id)])].join(',');
  const run = await evaluate(where, ['--predictions', preds, '--instances', instances, ...(suite ? ['--suite', suite] : [])], { db, timeout: 240_000 });
  expect(run.exitCode, run.stderr).toBe(0);
  const summaries = (Array.isArray(run.summary) ? run.summary : [run.summary]) as EvalSummary[];
  return { db, runId: summaries[0]!.run_id, summaries };
}

function expectCaught(fixture: string, expected: Expected, attempt: ShownAttempt) {
  const g = attempt.grade;
  console.log(`[attack] ${fixture}: ${attempt.outcome}; reverted ${g.revertedFiles.join(', ') || 'nothing'}; ${g.tamperReason ?? g.untrustworthyReason ?? `read from the ${g.reportSource}`}`);
  expect(attempt.resolved, fixture).toBe(false);
  expect(attempt.outcome, fixture).toBe(expected.outcome);
  if (expected.reverted) expect(g.revertedFiles.some((path) => expected.reverted!.test(path)), `${fixture}: ${g.revertedFiles.join(', ')}`).toBe(true);
  if (expected.reason) expect(g.tamperReason, fixture).toMatch(expected.reason);
  if (expected.fromChannel) {
    expect(g.reportSource, fixture).toBe('channel');
    // The real report was read: the FAIL_TO_PASS tests failed for real, and every canary that must fail did.
    expect(g.testsStatus!.FAIL_TO_PASS!.failure.length, fixture).toBeGreaterThan(0);
  }
}

describe.skipIf(!BWRAP)('patches that attack the report, the runner configuration or the framework in process', () => {
  it('grades each attack on the built-in suite not resolved, for the reason its class calls for', async () => {
    const { db, runId } = await gradeFixtures('report-attacks', REPORT_ATTACKS);
    for (const [fixture, expected] of Object.entries(REPORT_ATTACKS)) expectCaught(fixture, expected, storedAttempt(db, runId, expected.instance, fixture));
  }, 300_000);

  it('grades each attack on a pytest instance not resolved, while the gold patch still resolves there', async () => {
    const iniconf = [1, 2, 3, 4, 5, 6].map((n) => `benchlab__iniconf-${n}`);
    const suite = await copySuite(join(where.dir, 'pytest-suite'), iniconf, (fields) => {
      fields.test_cmd = 'python3 -m pytest -rA -p no:cacheprovider';
      fields.log_parser = 'pytest';
    });
    const gold = await builtinInstance('benchlab__iniconf-1');
    // One prediction per instance and run: the attack on iniconf-3 and the gold control go in a second run.
    const { 'shadowed-runner-dependency': second, ...first } = PYTEST_ATTACKS;
    const one = await gradeFixtures('pytest-attacks', first, [], suite);
    for (const [fixture, expected] of Object.entries(first)) expectCaught(fixture, expected, storedAttempt(one.db, one.runId, expected.instance, fixture));
    const two = await gradeFixtures('pytest-attacks-2', { 'shadowed-runner-dependency': second! }, [{ instance_id: 'benchlab__iniconf-1', model_name_or_path: 'gold-under-pytest', model_patch: gold.patch }], suite);
    expectCaught('shadowed-runner-dependency', second!, storedAttempt(two.db, two.runId, second!.instance, 'shadowed-runner-dependency'));
    const control = storedAttempt(two.db, two.runId, 'benchlab__iniconf-1', 'gold-under-pytest');
    expect(control.outcome, control.grade.untrustworthyReason ?? control.grade.tamperReason).toBe('resolved');
    expect(control.grade.reportSource).toBe('channel');
  }, 300_000);
});
