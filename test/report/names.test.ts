import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { safeName } from '../../src/results/index.ts';
import { bench } from '../helpers/cli.ts';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => statSync(join(dir, p)).isFile()).sort();
}

describe('names that become file names stay inside their folder', () => {
  test('separators, dot names and odd characters make one safe path component', () => {
    expect(safeName('..')).toBe('_.');
    expect(safeName('.')).toBe('_');
    expect(safeName('../../etc/passwd')).toBe('_.__..__etc__passwd');
    expect(safeName('openai/gpt-4o')).toBe('openai__gpt-4o');
    expect(safeName('C:\\temp\\x')).toBe('C___temp__x');
    expect(safeName('.hidden')).toBe('_hidden');
    expect(safeName('')).toBe('_');
    for (const name of ['..', '../x', 'a/../../b', '/abs', 'x\u0000y', '.\u2024.']) expect(safeName(name)).not.toMatch(/^\.\.?$|[/\\\u0000]/);
  });

  test('bench eval with a model named `..` and a run id with `../` writes only under results/runs', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bench-names-'));
    made.push(root);
    const work = join(root, 'work');
    mkdirSync(work);
    const preds = join(work, 'preds.jsonl');
    const rows = [
      { instance_id: 'benchlab__csvkit-1', model_name_or_path: '..', model_patch: '' },
      { instance_id: 'benchlab__csvkit-2', model_name_or_path: '../../escaped', model_patch: '' },
      { instance_id: 'benchlab__csvkit-3', model_name_or_path: '=HYPERLINK("http://evil.example","x")', model_patch: '' },
    ];
    writeFileSync(preds, rows.map((r) => JSON.stringify(r)).join('\n'));
    const results = join(work, 'results');
    const env = { BENCH_RESULTS_DIR: results, BENCH_CACHE_DIR: join(root, 'cache') };
    const db = join(work, 'bench.db');
    const run = await bench(['eval', '--predictions', preds, '--instances', 'benchlab__csvkit-1,benchlab__csvkit-2,benchlab__csvkit-3', '--run-id', '../../up', '--sandbox', 'local', '--db', db], { cwd: work, env });
    expect(run.exitCode, run.stderr).toBe(0);
    // Nothing outside the results folder: the temp root holds only what was there.
    expect(readdirSync(root).sort()).toEqual(['cache', 'work'].filter((n) => existsSync(join(root, n))));
    expect(readdirSync(work).sort()).toEqual(['bench.db', 'bench.db-shm', 'bench.db-wal', 'preds.jsonl', 'results'].filter((n) => existsSync(join(work, n))));
    const written = filesUnder(results);
    expect(written.length).toBeGreaterThan(0);
    for (const file of written) {
      expect(relative(results, join(results, file)).startsWith('..')).toBe(false);
      expect(file.split('/')[0]).toBe('runs');
      expect(file.split('/')[1]).toBe('_.__..__up');
      expect(file.split('/')).not.toContain('..');
    }

    const csv = await bench(['report', '../../up', '--format', 'csv', '--db', db], { cwd: work, env });
    expect(csv.exitCode, csv.stderr).toBe(0);
    const cells = csv.stdout.split('\r\n').slice(1).filter(Boolean).map((line) => line.split(',')[0]!);
    expect(cells).toContain(`"'=HYPERLINK(""http://evil.example""`);
    for (const line of csv.stdout.split('\r\n')) {
      for (const cell of line.split(',')) expect(cell.replace(/^"/, '')).not.toMatch(/^[=+@]/);
    }
  });
});
