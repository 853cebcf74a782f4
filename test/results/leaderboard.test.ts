import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { bench } from '../helpers/cli.ts';

let dir: string;
let env: Record<string, string>;
let exported: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'bench-board-'));
  env = { BENCH_CACHE_DIR: join(dir, 'cache'), BENCH_RESULTS_DIR: join(dir, 'results'), CI: '1' };
  const db = join(dir, 'bench.db');
  const run = await bench(['run', '--instances', 'benchlab__csvkit-1,benchlab__csvkit-2', '--sandbox', 'local', '--db', db, '--run-id', 'board'], { env });
  expect(run.exitCode, run.stderr).toBe(0);
  const result = await bench(['export', 'board', '--config', 'gold', '--db', db, '--out', join(dir, 'verified')], { env });
  expect(result.exitCode, result.stderr).toBe(0);
  exported = join(dir, 'verified', readdirSync(join(dir, 'verified')).find((f) => f.endsWith('.json'))!);
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function board(name: string): string {
  const folder = join(dir, name);
  mkdirSync(folder);
  return folder;
}

type Results = { suite: { name: string; hash: string; instances: number; total_instances?: number }; config: { name: string; settings: Record<string, unknown> }; instances: { resolved: boolean; outcome: string }[]; summary: Record<string, unknown>; verifications: { digest?: string }[] };
const read = (path: string): Results => JSON.parse(readFileSync(path, 'utf8'));
const write = (path: string, file: Results) => writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);

describe('leaderboard integrity', () => {
  test('verify --record stores the digest of the content it verified; an edit afterwards drops the ✓ and is flagged', async () => {
    const folder = board('edited');
    const path = join(folder, 'entry.json');
    copyFileSync(exported, path);
    const verified = await bench(['verify', path, '--record', '--sandbox', 'local'], { env });
    expect(verified.exitCode, verified.stdout + verified.stderr).toBe(0);
    const recorded = read(path);
    expect(recorded.verifications.at(-1)!.digest).toMatch(/^[0-9a-f]{64}$/);
    expect((await bench(['leaderboard', '--dir', folder], { env })).stdout).toMatch(/\| ✓ \|/);

    // Edited after verification: one instance now fails, the summary left as it was.
    const edited = read(path);
    edited.instances[0]!.resolved = false;
    edited.instances[0]!.outcome = 'unresolved';
    write(path, edited);
    const shown = await bench(['leaderboard', '--dir', folder], { env });
    expect(shown.exitCode, shown.stderr).toBe(0);
    expect(shown.stdout).not.toMatch(/\| ✓ \|/);
    expect(shown.stdout).toMatch(/\| ✗ changed since verified \|/);
    // The row is recomputed from the instances, not taken from the summary it claims.
    expect(shown.stdout).toMatch(/\| 1\/2, 2 of 31 instances \| 50\.0% /);
    expect(shown.stdout).toMatch(/Flagged: entry\.json \(changed since verified; summary does not match its instances\)/);

    // Editing the summary to match does not bring the ✓ back.
    edited.summary = { ...edited.summary, resolved: 1, rate: 0.5 };
    write(path, edited);
    expect((await bench(['leaderboard', '--dir', folder], { env })).stdout).toMatch(/✗ changed since verified/);
  }, 300_000);

  test('a file covering part of its suite is listed apart, unranked, and the local suite decides its size', async () => {
    const folder = board('coverage');
    copyFileSync(exported, join(folder, 'subset.json'));
    // A file that claims its 2 instances are the whole suite: the local builtin suite says 31.
    const lying = read(exported);
    lying.suite.total_instances = 2;
    write(join(folder, 'lying.json'), lying);
    // A suite not held locally, which the file covers whole by its own account.
    const other = read(exported);
    other.suite = { ...other.suite, name: 'elsewhere', hash: 'f'.repeat(64), total_instances: 2 };
    write(join(folder, 'complete.json'), other);
    const shown = await bench(['leaderboard', '--dir', folder], { env });
    expect(shown.exitCode, shown.stderr).toBe(0);
    const [ranked, unranked] = shown.stdout.split('Not ranked, they do not cover their whole suite:');
    expect(ranked).toMatch(/\| elsewhere \| 2\/2 \| 100\.0%/);
    expect(ranked).not.toMatch(/\| builtin \|/);
    expect(unranked!.match(/\| builtin \| 2\/2, 2 of 31 instances \|/g)).toHaveLength(2);
  }, 300_000);

  test('two files differing only in settings read apart', async () => {
    const folder = board('settings');
    const cold = read(exported);
    cold.config.settings = { ...cold.config.settings, temperature: 0 };
    write(join(folder, 'cold.json'), cold);
    const hot = read(exported);
    hot.config.settings = { ...hot.config.settings, temperature: 1.5 };
    write(join(folder, 'hot.json'), hot);
    const shown = await bench(['leaderboard', '--dir', folder], { env });
    const rows = shown.stdout.split('\n').filter((l) => l.includes('| builtin |'));
    expect(rows).toHaveLength(2);
    expect(rows[0]).not.toBe(rows[1]);
    expect(shown.stdout).toMatch(/#[0-9a-f]{8}; temperature 0 \|/);
    expect(shown.stdout).toMatch(/#[0-9a-f]{8}; temperature 1\.5 \|/);
  }, 300_000);
});
