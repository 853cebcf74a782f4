import { describe, expect, test } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bench } from '../helpers/cli.ts';

function folder() {
  const dir = mkdtempSync(join(tmpdir(), 'bench-plan-'));
  return { dir, env: { BENCH_DB: join(dir, 'bench.db'), BENCH_RESULTS_DIR: join(dir, 'results'), BENCH_CACHE_DIR: join(dir, 'cache'), CI: '1' } };
}

async function planned(args: string[]): Promise<string[]> {
  const { dir, env } = folder();
  const result = await bench(['run', '--dry-run', '--json', ...args], { env });
  expect(result.exitCode, result.stderr).toBe(0);
  expect(existsSync(join(dir, 'bench.db'))).toBe(false);
  const plan = JSON.parse(result.stdout) as { attempts: { instanceId: string; configName: string }[] };
  return [...new Set(plan.attempts.map((a) => a.instanceId))];
}

describe('smoke-test subsets', () => {
  test('--sample N --seed S picks the same N for the same seed, in the suite\'s order; --limit keeps the first N', async () => {
    const all = await planned([]);
    expect(all).toHaveLength(31);
    const first = await planned(['--sample', '4', '--seed', '5']);
    expect(first).toHaveLength(4);
    expect(await planned(['--sample', '4', '--seed', '5'])).toEqual(first);
    expect(first).toEqual(all.filter((id) => first.includes(id)));
    expect(await planned(['--sample', '4', '--seed', '6'])).not.toEqual(first);
    expect(await planned(['--limit', '2'])).toEqual(all.slice(0, 2));
    expect(await planned(['--sample', '4', '--seed', '5', '--limit', '2'])).toEqual(first.slice(0, 2));
  }, 180_000);

  test('a --limit run is a subset, and its report says so', async () => {
    const { env } = folder();
    const run = await bench(['run', '--limit', '1', '--run-id', 'smoke'], { env });
    expect(run.exitCode, run.stderr).toBe(0);
    const report = await bench(['report', 'smoke', '--format', 'json'], { env });
    const configs = JSON.parse(report.stdout).configs as { name: string; coverage: { partial: boolean; reasons: string[] } }[];
    expect(configs).toHaveLength(2);
    for (const config of configs) expect(config.coverage).toMatchObject({ partial: true, reasons: [expect.stringMatching(/a subset: 1 of the suite's 31 instances/)] });
  }, 180_000);

  test('bench eval --sample grades a seeded subset of the predictions', async () => {
    const { env } = folder();
    const result = await bench(['eval', '--predictions', 'gold', '--sample', '2', '--seed', '3', '--json'], { env });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ submitted_instances: 2, resolved_instances: 2 });
  }, 180_000);

  test('bench eval --limit and --sample draw from the instances that have a prediction, not from the whole suite', async () => {
    const { dir, env } = folder();
    // Predictions for the suite's last three instances only: a subset of the suite would miss them.
    const instances = JSON.parse((await bench(['tasks', 'list', '--json'], { env })).stdout) as { instance_id: string }[];
    const last = instances.slice(-3).map((i) => i.instance_id);
    const file = join(dir, 'preds.jsonl');
    writeFileSync(file, last.map((id) => JSON.stringify({ instance_id: id, model_name_or_path: 'm', model_patch: '' })).join('\n'));
    for (const narrowing of [['--limit', '2'], ['--sample', '2', '--seed', '1']]) {
      const result = await bench(['eval', '--predictions', file, ...narrowing, '--json', '--run-id', `subset${narrowing.length}${narrowing[0]!.slice(2)}`], { env });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ submitted_instances: 2 });
    }
  }, 180_000);
});
