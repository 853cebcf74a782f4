import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bench, PROJECT_ROOT } from '../../helpers/cli.ts';
import { scratch, type Scratch } from './_helpers.ts';
import { cloneFixture, FIXTURES, writeDataset, type Row } from './_datasets.ts';

type Validation = { instanceId: string; ok: boolean; problems: string[] };

let where: Scratch;
let reposDir: string;
let rows: Row[];
let dataset: string;

beforeAll(async () => {
  where = await scratch('datasets');
  // Prepared environments (npm installs of the fixtures' runners) are kept between runs: keyed by content, shared safely.
  where.env.BENCH_CACHE_DIR = join(PROJECT_ROOT, 'node_modules', '.cache', 'bench-fixture-environments');
  reposDir = join(where.dir, 'repos');
  await mkdir(reposDir);
  rows = (await Promise.all(FIXTURES.map((name) => cloneFixture(name, reposDir)))).flat();
  dataset = await writeDataset(join(where.dir, 'fixtures.jsonl'), rows);
});

afterAll(async () => {
  await where?.cleanup();
});

const validate = (ids: string[]) =>
  bench(['tasks', 'validate', '--dataset', dataset, '--repos-dir', reposDir, '--instances', ids.join(','), '--json', '-j', '2'], { env: where.env, timeout: 600_000 });

describe('datasets in other harnesses\' conventions, on repositories of their own', () => {
  it('validates every fixture in each harness\'s naming, with the row\'s command and with the command detected', async () => {
    const ids = rows.map((row) => row.instance_id);
    expect(ids.filter((id) => id.endsWith('-swebench'))).toHaveLength(4);
    expect(ids.filter((id) => id.endsWith('-polybench'))).toHaveLength(2);
    const run = await validate(ids);
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    const results = JSON.parse(run.stdout) as Validation[];
    expect(results.map((r) => r.instanceId).sort()).toEqual([...ids].sort());
    for (const result of results) expect(result, result.instanceId).toMatchObject({ ok: true, problems: [] });
  }, 600_000);
});
