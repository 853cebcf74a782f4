import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { beforeAll, describe, expect, test } from 'vitest';
import { bench, BENCH_BIN, PROJECT_ROOT } from '../helpers/cli.ts';

const INSTANCES = 'benchlab__csvkit-1,benchlab__exprcalc-1,benchlab__iniconf-2,benchlab__semverlite-1';
let cacheDir: string;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'bench-run-'));
}

function env(extra: Record<string, string> = {}) {
  return { BENCH_CACHE_DIR: cacheDir, BENCH_RESULTS_DIR: join(cacheDir, 'results'), CI: '1', ...extra };
}

/** Outcome per (instance, config, repeat), as stored: what must match between runs. */
function outcomes(db: string, runId: string): Record<string, string> {
  const raw = new Database(db, { readonly: true });
  const rows = raw.prepare('SELECT instance_id, config_name, repeat, outcome FROM attempts WHERE run_id = ? ORDER BY instance_id, config_name, repeat').all(runId) as Record<string, string>[];
  raw.close();
  return Object.fromEntries(rows.map((r) => [`${r.instance_id}/${r.config_name}/${r.repeat}`, r.outcome]));
}

beforeAll(() => {
  cacheDir = tempDir();
});

describe('bench run on the embedded default', () => {
  test('with no config it runs the gold and empty baselines and prints a comparison table', async () => {
    const db = join(tempDir(), 'bench.db');
    const { exitCode, stdout, stderr } = await bench(['run', '--instances', INSTANCES, '--db', db, '--run-id', 'baselines'], { env: env(), cwd: tempDir() });
    expect(exitCode).toBe(0);
    expect(stderr).toMatch(/running the empty and gold baselines on builtin/);
    expect(stdout).toMatch(/gold[\s\S]*100\.0%/);
    expect(stdout).toMatch(/empty[\s\S]*0\.0%/);
    expect(stdout).not.toMatch(/ETA/);
    expect(Object.values(outcomes(db, 'baselines')).sort()).toEqual([...Array(4).fill('empty_patch'), ...Array(4).fill('resolved')]);
  });

  test('--json keeps stdout clean JSON and re-running the same --run-id does only what is missing', async () => {
    const db = join(tempDir(), 'bench.db');
    const first = await bench(['run', '--instances', INSTANCES, '--db', db, '--run-id', 'r1', '--json'], { env: env() });
    expect(first.exitCode).toBe(0);
    const report = JSON.parse(first.stdout);
    expect(report.configs.map((c: { config: string; resolved: number }) => [c.config, c.resolved]).sort()).toEqual([['empty', 0], ['gold', 4]]);
    const again = await bench(['run', '--instances', INSTANCES, '--db', db, '--run-id', 'r1'], { env: env() });
    expect(again.stderr).toMatch(/0 attempts, 8 already done/);
  });
});

describe('interruptions', () => {
  test('SIGKILL at random points, then resume: every attempt exactly once and the same outcomes as an uninterrupted run', async () => {
    const dir = tempDir();
    const reference = join(dir, 'reference.db');
    const few = 'benchlab__csvkit-1,benchlab__iniconf-2';
    await bench(['run', '--instances', few, '--db', reference, '--run-id', 'ref', '-j', '2'], { env: env() });
    const expected = outcomes(reference, 'ref');
    for (let round = 0; round < 20; round++) {
      const db = join(dir, `killed-${round}.db`);
      const child = execa(process.execPath, [BENCH_BIN, 'run', '--instances', few, '--db', db, '--run-id', 'ref', '-j', '2'], {
        cwd: PROJECT_ROOT, env: env(), reject: false,
      });
      // Spread the kill over start-up, agent episodes, grading and the final writes.
      await new Promise((resolve) => setTimeout(resolve, 100 + ((round * 379) % 900)));
      child.kill('SIGKILL');
      await child;
      const resumed = await bench(['run', '--instances', few, '--db', db, '--run-id', 'ref', '-j', '2'], { env: env() });
      expect(resumed.exitCode).toBe(0);
      const raw = new Database(db, { readonly: true });
      expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
      const counts = raw.prepare('SELECT count(*) AS n, count(DISTINCT instance_id || config_name || repeat) AS distinctKeys FROM attempts').get();
      raw.close();
      expect(counts).toEqual({ n: 4, distinctKeys: 4 });
      expect(outcomes(db, 'ref')).toEqual(expected);
    }
  }, 240_000);

  test('the first Ctrl-C lets in-flight attempts finish, saves them, prints the resume command and exits 130', async () => {
    const db = join(tempDir(), 'bench.db');
    const child = execa(process.execPath, [BENCH_BIN, 'run', '--db', db, '--run-id', 'stopped', '-j', '1'], { cwd: PROJECT_ROOT, env: env(), reject: false, forceKillAfterDelay: false });
    await waitForFile(db);
    await new Promise((resolve) => setTimeout(resolve, 800));
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode, result.stderr).toBe(130);
    expect(result.stderr).toMatch(/Resume with: npx bench run .*--run-id stopped/);
    const raw = new Database(db, { readonly: true });
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    const { n } = raw.prepare('SELECT count(*) AS n FROM attempts').get() as { n: number };
    const run = raw.prepare("SELECT status FROM runs WHERE id = 'stopped'").get();
    raw.close();
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(62);
    expect(run).toEqual({ status: 'interrupted' });
  });

  test('a second Ctrl-C exits at once without corrupting the database', async () => {
    const db = join(tempDir(), 'bench.db');
    const child = execa(process.execPath, [BENCH_BIN, 'run', '--db', db, '--run-id', 'twice', '-j', '2'], { cwd: PROJECT_ROOT, env: env(), reject: false, forceKillAfterDelay: false });
    await waitForFile(db);
    await new Promise((resolve) => setTimeout(resolve, 500));
    child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 50));
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode, result.stderr).toBe(130);
    expect(result.stderr).toMatch(/stopped at once/);
    const raw = new Database(db, { readonly: true });
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    raw.close();
  });
});

describe('bench eval with a selection', () => {
  test('--instances narrows a full predictions file instead of rejecting the others', async () => {
    const dir = tempDir();
    const preds = join(dir, 'preds.jsonl');
    const { loadSuite } = await import('../../src/tasks/index.ts');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(preds, loadSuite().instances.map((i) => JSON.stringify({ instance_id: i.instance_id, model_name_or_path: 'm', model_patch: i.patch })).join('\n'));
    const { exitCode, stdout, stderr } = await bench(['eval', '--predictions', preds, '--instances', 'benchlab__csvkit-1', '--db', join(dir, 'bench.db'), '--json'], { env: env() });
    expect(exitCode, stderr).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ total_instances: 1, submitted_instances: 1, resolved_instances: 1 });
  });
});

describe('bad run input', () => {
  test('an unknown --configs name exits 2 and creates no database', async () => {
    const dir = tempDir();
    const config = join(PROJECT_ROOT, 'config.example.toml');
    const db = join(dir, 'bench.db');
    const { exitCode, stderr } = await bench(['run', '--config', config, '--configs', 'gpt-3', '--db', db], { env: env() });
    expect(exitCode).toBe(2);
    expect(stderr).toMatch(/Did you mean `gpt3`/);
    expect(existsSync(db)).toBe(false);
  });

  test('a missing API key names the config and the variable to set, before any task starts', async () => {
    const db = join(tempDir(), 'bench.db');
    const { exitCode, stderr } = await bench(['run', '--config', join(PROJECT_ROOT, 'config.example.toml'), '--configs', 'gpt3', '--db', db], {
      env: env({ OPENAI_API_KEY: '' }),
    });
    expect(exitCode).toBe(2);
    expect(stderr).toMatch(/gpt3/);
    expect(stderr).toMatch(/OPENAI_API_KEY|LLM_API_KEY/);
    expect(existsSync(db)).toBe(false);
  });

  test('a database path in a read-only directory exits 2 with a clear message and creates nothing', async () => {
    const dir = tempDir();
    const locked = join(dir, 'locked');
    await execa('mkdir', ['-m', '555', locked]);
    const args = [BENCH_BIN, 'run', '--instances', 'benchlab__csvkit-1', '--db', join(locked, 'bench.db')];
    // root ignores permission bits, so the folder is made read-only with a bubblewrap bind mount.
    const result = process.getuid?.() === 0
      ? await execa('bwrap', ['--bind', '/', '/', '--ro-bind', locked, locked, '--dev', '/dev', '--proc', '/proc', process.execPath, ...args], { reject: false, env: { ...process.env, ...env() } })
      : await execa(process.execPath, args, { reject: false, env: { ...process.env, ...env() } });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/cannot be written.*--db PATH/);
    expect(existsSync(join(locked, 'bench.db'))).toBe(false);
  });

  test('an unknown --agent and an unknown --instances id are clear errors', async () => {
    const agent = await bench(['run', '--agent', 'bsh', '--db', join(tempDir(), 'x.db')], { env: env() });
    expect(agent.exitCode).toBe(2);
    expect(agent.stderr).toMatch(/Did you mean `bash`/);
    const instance = await bench(['run', '--instances', 'benchlab__csvkit-99', '--db', join(tempDir(), 'x.db')], { env: env() });
    expect(instance.exitCode).toBe(2);
    expect(instance.stderr).toMatch(/benchlab__csvkit-99/);
  });
});

async function waitForFile(path: string): Promise<void> {
  // Up to a minute: on a loaded machine the CLI can take seconds to start.
  for (let i = 0; i < 2400 && !existsSync(path); i++) await new Promise((resolve) => setTimeout(resolve, 25));
}
