import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, onTestFinished, test } from 'vitest';
import { BENCH_BIN } from '../helpers/cli.ts';
import { startLlmServer } from '../helpers/llm-server.ts';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

async function until(condition: () => boolean, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('the first Ctrl-C ends a pending retry wait at once, records nothing half-done, and prints a runnable resume command', async () => {
  // Every request is refused for the rate with a minute's Retry-After: without the abort, the run would sleep it out.
  const server = await startLlmServer([{ kind: 'rate_limit', retryAfter: '60' }]);
  onTestFinished(() => server.close());
  const dir = mkdtempSync(join(tmpdir(), 'bench-interrupt-'));
  made.push(dir);
  const config = join(dir, 'config.toml');
  writeFileSync(config, `[llm.busy]\nmodel = "openai/gpt-4o"\nbase_url = "${server.openaiUrl}"\napi_key = "sk-test-interrupt-0b1c2d3e"\nretry_max_wait = 120\n`);
  const db = join(dir, 'bench.db');
  const env = { ...process.env, NO_COLOR: '1', CI: '1', BENCH_NO_PREFLIGHT: '1', BENCH_RESULTS_DIR: join(dir, 'results'), BENCH_CACHE_DIR: join(dir, 'cache') };
  const child = spawn(process.execPath, [BENCH_BIN, 'run', '--config', config, '--agent', 'patch', '--configs', 'busy', '--filter', 'csvkit-1|iniconf-2', '-j', '2', '--db', db], { cwd: dir, env });
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  await until(() => /retry 1\/8 in 1m/.test(stderr), 'the first retry wait to start');
  const pressed = Date.now();
  child.kill('SIGINT');
  const code = await exited;
  const seconds = (Date.now() - pressed) / 1000;

  expect(code, stderr).toBe(130);
  // A minute's wait was pending: ending well inside it shows the wait was cut, not slept out.
  expect(seconds).toBeLessThan(30);
  expect(stderr).toMatch(/Stopping: no new attempt starts and retry waits end now; \d+ attempts? in flight.*Ctrl-C again abandons them/);
  const resume = /Resume with: (.*)/.exec(stderr)?.[1];
  expect(resume).toMatch(/^npx bench run .*--filter 'csvkit-1\|iniconf-2' .*--run-id \S+$/);
  // The cut attempts are not stored as failures: a resume runs them.
  const raw = new Database(db, { readonly: true });
  try {
    expect(raw.prepare('SELECT COUNT(*) AS n FROM attempts').get()).toEqual({ n: 0 });
    expect(raw.prepare('SELECT status FROM runs').get()).toEqual({ status: 'interrupted' });
  } finally {
    raw.close();
  }
});

test('the first Ctrl-C stops queued baseline work too: only the gradings in flight finish', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-interrupt-'));
  made.push(dir);
  const db = join(dir, 'bench.db');
  const env = { ...process.env, NO_COLOR: '1', CI: '1', BENCH_RESULTS_DIR: join(dir, 'results'), BENCH_CACHE_DIR: join(dir, 'cache'), BENCH_CONFIG: undefined };
  const child = spawn(process.execPath, [BENCH_BIN, 'run', '-j', '2', '--db', db], { cwd: dir, env });
  onTestFinished(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const stored = () => {
    try {
      const raw = new Database(db, { readonly: true, fileMustExist: true });
      try {
        return (raw.prepare('SELECT COUNT(*) AS n FROM attempts').get() as { n: number }).n;
      } finally {
        raw.close();
      }
    } catch {
      return 0;
    }
  };
  await until(() => stored() > 0 || child.exitCode !== null, 'the first baseline attempt to be stored', 180_000);
  const atPress = stored();
  child.kill('SIGINT');
  expect(await exited, stderr).toBe(130);
  const total = stored();
  // The built-in suite's baselines are dozens of attempts; after the press only gradings already running may land.
  expect(total).toBeLessThanOrEqual(atPress + 4);
  expect(stderr).toMatch(/Resume with: npx bench run .*--run-id \S+/);
});
