import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { bench } from '../helpers/cli.ts';

const INSTANCES = 'benchlab__csvkit-1,benchlab__exprcalc-4,benchlab__iniconf-1';
let dir: string;
let env: Record<string, string>;
let exported: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bench-export-'));
  env = { BENCH_CACHE_DIR: join(dir, 'cache'), BENCH_RESULTS_DIR: join(dir, 'results'), CI: '1' };
  const db = join(dir, 'bench.db');
  const run = await bench(['run', '--instances', INSTANCES, '--db', db, '--run-id', 'shared'], { env });
  expect(run.exitCode).toBe(0);
  const result = await bench(['export', 'shared', '--configs', 'gold', '--db', db, '--out', join(dir, 'verified')], { env });
  expect(result.exitCode).toBe(0);
  const files = readdirSync(join(dir, 'verified'));
  expect(files.some((f) => f.endsWith('.all_preds.jsonl'))).toBe(true);
  exported = join(dir, 'verified', files.find((f) => f.endsWith('.json'))!);
}, 120_000);

function tampered(change: (file: { instances: { instance_id: string; patch: string | null; patch_hash: string | null; resolved: boolean; grade_outcome: string; outcome: string }[] }) => void): string {
  const file = JSON.parse(readFileSync(exported, 'utf8'));
  change(file);
  const path = join(dir, `tampered-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(path, JSON.stringify(file));
  return path;
}

describe('export, verify and leaderboard', () => {
  test('an export holds the run, the suite hash, every patch and the summary, and all_preds.jsonl in SWE-bench shape', () => {
    const file = JSON.parse(readFileSync(exported, 'utf8'));
    expect(file).toMatchObject({ format: 'bench-results/1', run_id: 'shared', suite: { name: 'builtin', instances: 3 }, config: { name: 'gold' }, summary: { total: 3, resolved: 3 } });
    expect(file.suite.hash).toMatch(/^[0-9a-f]{64}$/);
    const preds = readFileSync(exported.replace(/\.json$/, '.all_preds.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(preds).toHaveLength(3);
    expect(Object.keys(preds[0]).sort()).toEqual(['instance_id', 'model_name_or_path', 'model_patch']);
  });

  test('verify re-grades every patch and says verified when all outcomes match', async () => {
    const { exitCode, stdout } = await bench(['verify', exported], { env });
    expect(stdout).toMatch(/^verified: all 3 graded outcomes/);
    expect(exitCode).toBe(0);
  });

  test('verify catches a changed patch and names the instance', async () => {
    const path = tampered((file) => {
      const target = file.instances.find((i) => i.instance_id === 'benchlab__exprcalc-4')!;
      target.patch = target.patch!.replace(/^\+(?!\+\+).*$/gm, '+// nothing to see');
      target.patch_hash = null;
    });
    const { exitCode, stdout } = await bench(['verify', path], { env });
    expect(exitCode).toBe(1);
    expect(stdout).toMatch(/NOT verified/);
    expect(stdout).toMatch(/benchlab__exprcalc-4.*claimed resolved.*graded (unresolved|patch_failed)/);
    expect(stdout).not.toMatch(/benchlab__csvkit-1/);
  });

  test('verify fails a file whose resolved attempt the current grader finds tampered', async () => {
    const attack = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/attacks/node-child-protocol-rewritten.jsonl'), 'utf8')) as { instance_id: string; model_patch: string };
    const path = tampered((file) => {
      const target = file.instances.find((i) => i.instance_id === attack.instance_id)!;
      target.patch = attack.model_patch;
      target.patch_hash = createHash('sha256').update(attack.model_patch).digest('hex');
    });
    const { exitCode, stdout } = await bench(['verify', path], { env });
    expect(exitCode).toBe(1);
    expect(stdout).toMatch(/benchlab__csvkit-1.*claimed resolved.*graded tampered/);
  });

  test('verify catches a changed outcome and a summary that does not add up', async () => {
    const path = tampered((file) => {
      const target = file.instances.find((i) => i.instance_id === 'benchlab__iniconf-1')!;
      target.resolved = false;
      target.grade_outcome = 'unresolved';
    });
    const { exitCode, stdout } = await bench(['verify', path], { env });
    expect(exitCode).toBe(1);
    expect(stdout).toMatch(/benchlab__iniconf-1.*claimed unresolved.*graded resolved/);
    expect(stdout).toMatch(/summary does not follow/);
  });

  test('verify --record marks the file and the leaderboard shows it verified', async () => {
    const copy = join(dir, 'board');
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(copy);
    copyFileSync(exported, join(copy, 'entry.json'));
    expect((await bench(['verify', join(copy, 'entry.json'), '--record'], { env })).exitCode).toBe(0);
    const board = await bench(['leaderboard', '--dir', copy], { env });
    expect(board.exitCode).toBe(0);
    // Three of the suite's 31 instances: verified, but listed apart from the ranked results.
    expect(board.stdout).toMatch(/Not ranked, they do not cover their whole suite:[\s\S]*\| gold \| gold( \(explicit\))? \| #[0-9a-f]{8} \| builtin \| 3\/3, 3 of 31 instances \| 100\.0% \(43\.8%–100\.0%\) \| \$0\.00 \| \$0\.00 \| \d{4}-\d\d-\d\d \| ✓ \|/);
  }, 180_000);

  test('verify rejects a file that is not a results file with exit 2', async () => {
    const path = join(dir, 'not-results.json');
    writeFileSync(path, JSON.stringify({ hello: 'world' }));
    const { exitCode, stderr } = await bench(['verify', path], { env });
    expect(exitCode).toBe(2);
    expect(stderr).toMatch(/not a bench results file/);
  });
});
