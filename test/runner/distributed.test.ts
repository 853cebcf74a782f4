import { cpSync, mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { execa, type ResultPromise } from 'execa';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TASKS_DIR } from '../../src/tasks/index.ts';
import { BENCH_BIN, bench } from '../helpers/cli.ts';
import { startOracleModel, type OracleModel } from '../helpers/oracle-model.ts';
import { redisAvailable, startRedis, type RedisServer } from '../helpers/redis.ts';

const API_KEY = 'sk-test-distributed-5f0c2b9e71d4a8836e2c';
const INSTANCES = ['benchlab__csvkit-1', 'benchlab__iniconf-2', 'benchlab__semverlite-1', 'benchlab__exprcalc-1'];
const SOLVED = /csvkit|semverlite/;
const haveRedis = await redisAvailable();
if (!haveRedis) console.warn('distributed tests skipped: redis-server is not installed (apt-get install redis-server)');

let redis: RedisServer;
let fast: OracleModel;
let slow: OracleModel;
const made: string[] = [];
const printed: string[] = [];
const children: ResultPromise[] = [];

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

function configToml(baseUrl: string, extra = ''): string {
  return [
    '[llm.oracle]', 'model = "openai/gpt-4o-mini"', `base_url = "${baseUrl}"`, `api_key = "${API_KEY}"`,
    'num_retries = 2', 'retry_min_wait = 0', 'retry_max_wait = 1', 'retry_multiplier = 0.05', extra, '',
  ].join('\n');
}

/** A coordinator's folder: config.toml, database, results; `run` is `bench run` there. */
function coordinator(baseUrl: string) {
  const dir = tempDir('bench-dist-coord-');
  const config = join(dir, 'config.toml');
  writeFileSync(config, configToml(baseUrl));
  const db = join(dir, 'bench.db');
  const env = { BENCH_CACHE_DIR: join(dir, 'cache'), BENCH_RESULTS_DIR: join(dir, 'results'), CI: '1' };
  const args = (runId: string, extra: string[]) => ['run', '--config', config, '--configs', 'oracle', '--agent', 'patch', '--instances', INSTANCES.join(','), '--db', db, '--run-id', runId, ...extra];
  return {
    db, config,
    run: async (runId: string, extra: string[] = []) => {
      const result = await bench(args(runId, extra), { cwd: dir, env, timeout: 300_000 });
      printed.push(result.stdout, result.stderr);
      return result;
    },
    start: (runId: string, extra: string[] = []) => spawn(args(runId, extra), dir, env),
    query(sql: string, ...params: unknown[]): Record<string, any>[] {
      const raw = new Database(db, { readonly: true });
      try {
        return raw.prepare(sql).all(...params) as Record<string, any>[];
      } finally {
        raw.close();
      }
    },
  };
}

function spawn(args: string[], cwd: string, env: Record<string, string>): ResultPromise {
  const child = execa(process.execPath, [BENCH_BIN, ...args], { cwd, env: { ...env, NO_COLOR: '1' }, reject: false, forceKillAfterDelay: false, all: true });
  children.push(child);
  return child;
}

/** A `bench worker` with its own folder, config.toml and work directories. */
function worker(baseUrl: string, options: { extraToml?: string; args?: string[] } = {}): ResultPromise {
  const dir = tempDir('bench-dist-worker-');
  writeFileSync(join(dir, 'config.toml'), configToml(baseUrl, options.extraToml));
  return spawn(['worker', '--queue', redis.url, '-j', '2', '--config', join(dir, 'config.toml'), ...(options.args ?? [])], dir, {
    BENCH_CACHE_DIR: join(dir, 'cache'), BENCH_RESULTS_DIR: join(dir, 'results'), CI: '1', BENCH_QUEUE_LOCK_MS: '2000',
  });
}

async function stop(child: ResultPromise): Promise<void> {
  child.kill('SIGTERM');
  const result = await child;
  printed.push(String(result.all ?? ''));
}

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function outcomes(rows: Record<string, any>[]): Record<string, string> {
  return Object.fromEntries(rows.map((r) => [`${r.instance_id}/${r.config_name}/${r.repeat}`, r.outcome]));
}

const attemptsOf = (c: ReturnType<typeof coordinator>, runId: string) => c.query('SELECT instance_id, config_name, repeat, outcome FROM attempts WHERE run_id = ? ORDER BY instance_id', runId);
const counts = (c: ReturnType<typeof coordinator>, runId: string) => c.query('SELECT count(*) AS n, count(DISTINCT instance_id || config_name || repeat) AS keys FROM attempts WHERE run_id = ?', runId)[0];

/** Every key and every value in Redis, as text. */
async function everythingIn(url: string): Promise<string> {
  const client = new Redis(url);
  const parts: string[] = [];
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await client.type(key);
        const value = type === 'string' ? await client.get(key)
          : type === 'hash' ? await client.hgetall(key)
            : type === 'list' ? await client.lrange(key, 0, -1)
              : type === 'set' ? await client.smembers(key)
                : type === 'zset' ? await client.zrange(key, '0', '-1', 'WITHSCORES')
                  : type === 'stream' ? await client.xrange(key, '-', '+') : `(${type})`;
        parts.push(key, JSON.stringify(value));
      }
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return parts.join('\n');
}

beforeAll(async () => {
  if (!haveRedis) return;
  redis = await startRedis();
  fast = await startOracleModel({ skill: SOLVED, miss: 'wrong', latencyMs: 50 });
  slow = await startOracleModel({ skill: SOLVED, miss: 'wrong', latencyMs: 2500 });
});

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(children.map((child) => child.catch(() => {})));
  await fast?.close();
  await slow?.close();
  await redis?.stop();
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe.runIf(haveRedis)('bench run --queue with bench worker', () => {
  test('a distributed run stores the same outcomes and report as a local run, and no API key reaches Redis', async () => {
    const c = coordinator(fast.openaiUrl);
    const local = await c.run('local');
    expect(local.exitCode, local.stderr).toBe(0);
    const workers = [worker(fast.openaiUrl), worker(fast.openaiUrl)];
    const distributed = await c.run('dist', ['--queue', redis.url]);
    expect(distributed.exitCode, distributed.stderr).toBe(0);
    expect(outcomes(attemptsOf(c, 'dist'))).toEqual(outcomes(attemptsOf(c, 'local')));
    expect(Object.values(outcomes(attemptsOf(c, 'dist'))).sort()).toEqual(['resolved', 'resolved', 'unresolved', 'unresolved']);
    // The same table, apart from the run id in its title.
    expect(distributed.stdout.replace(/run dist/g, 'run X')).toEqual(local.stdout.replace(/run local/g, 'run X'));
    const status = await bench(['queue', 'status', '--queue', redis.url, '--json']);
    expect(status.exitCode, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toContainEqual(expect.objectContaining({ runId: 'dist', status: 'finished', waiting: 0, active: 0, failed: 0, finished: 4 }));
    for (const w of workers) await stop(w);
    expect(await everythingIn(redis.url)).not.toContain(API_KEY);
    expect(printed.join('\n')).not.toContain(API_KEY);
  }, 300_000);

  test('a worker whose config or suite differs from the run\'s is refused with a clear message, and the run completes on a matching one', async () => {
    const c = coordinator(fast.openaiUrl);
    const run = c.start('mismatch', ['--queue', redis.url]);
    await until(async () => (await bench(['queue', 'status', '--queue', redis.url, '--json'])).stdout.includes('"mismatch"'), 'the run to be published');
    const otherConfig = await worker(fast.openaiUrl, { extraToml: 'temperature = 0.5', args: ['--run-id', 'mismatch'] });
    expect(otherConfig.exitCode).toBe(2);
    expect(otherConfig.all).toMatch(/refusing run mismatch: config `oracle` \(agent patch\) resolves to other settings here/);
    const suite = tempDir('bench-dist-suite-');
    cpSync(join(TASKS_DIR, 'builtin'), suite, { recursive: true });
    appendFileSync(join(suite, 'instances', INSTANCES[0]!, 'problem.md'), '\nOne more sentence.\n');
    const otherSuite = await worker(fast.openaiUrl, { args: ['--run-id', 'mismatch', '--suite', suite] });
    expect(otherSuite.exitCode).toBe(2);
    expect(otherSuite.all).toMatch(/refusing run mismatch: suite builtin has content hash \w+ here, but the run was made on \w+/);
    expect(counts(c, 'mismatch')).toEqual({ n: 0, keys: 0 });
    const good = worker(fast.openaiUrl);
    const result = await run;
    expect(result.exitCode, String(result.all)).toBe(0);
    expect(result.all).toMatch(/refused this run: config `oracle`/);
    expect(counts(c, 'mismatch')).toEqual({ n: 4, keys: 4 });
    await stop(good);
  }, 300_000);

  test('SIGKILL of a worker mid-attempt: another worker takes its jobs over and every attempt is stored exactly once', async () => {
    const c = coordinator(slow.openaiUrl);
    const doomed = worker(slow.openaiUrl);
    const run = c.start('killed-worker', ['--queue', redis.url]);
    const before = slow.requests.length;
    await until(() => slow.requests.length > before, 'the doomed worker to call the model');
    doomed.kill('SIGKILL');
    await doomed;
    const rescuer = worker(slow.openaiUrl);
    const result = await run;
    expect(result.exitCode, String(result.all)).toBe(0);
    expect(counts(c, 'killed-worker')).toEqual({ n: 4, keys: 4 });
    expect(Object.values(outcomes(attemptsOf(c, 'killed-worker'))).sort()).toEqual(['resolved', 'resolved', 'unresolved', 'unresolved']);
    await stop(rescuer);
  }, 300_000);

  test('SIGKILL of the coordinator, then the same command resumes: the workers\' records are stored once and nothing is missing', async () => {
    const c = coordinator(slow.openaiUrl);
    const w = worker(slow.openaiUrl);
    const first = c.start('killed-coordinator', ['--queue', redis.url]);
    await until(() => { try { return counts(c, 'killed-coordinator')!.n >= 1; } catch { return false; } }, 'a first stored attempt');
    first.kill('SIGKILL');
    await first;
    const resumed = await c.run('killed-coordinator', ['--queue', redis.url]);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    expect(counts(c, 'killed-coordinator')).toEqual({ n: 4, keys: 4 });
    await stop(w);
  }, 300_000);

  test('Redis restarted empty mid-run: the coordinator enqueues what has no record again, the workers reconnect, and the run completes', async () => {
    const c = coordinator(slow.openaiUrl);
    const w = worker(slow.openaiUrl);
    const run = c.start('restarted', ['--queue', redis.url]);
    await until(() => { try { return counts(c, 'restarted')!.n >= 1; } catch { return false; } }, 'a first stored attempt');
    await redis.restart();
    const result = await run;
    expect(result.exitCode, String(result.all)).toBe(0);
    expect(result.all).toMatch(/gone from Redis/);
    expect(counts(c, 'restarted')).toEqual({ n: 4, keys: 4 });
    await stop(w);
  }, 300_000);
});

describe.runIf(haveRedis)('trouble in a distributed run', () => {
  test('a worker\'s retry and recovery reach the coordinator\'s screen, and --fail-fast stops a config whose every call is refused', async () => {
    let limited = false;
    // One 429 and then answers: a retry line, then a recovery line.
    const flaky = await startOracleModel({ skill: SOLVED, miss: 'wrong', latencyMs: 50, intercept: () => (limited ? undefined : ((limited = true), { kind: 'rate_limit', retryAfter: '0', message: `slow down (key ${API_KEY})` })) });
    // Every call refused, slowly enough that the coordinator sees two records while jobs still wait.
    const denied = await startOracleModel({ latencyMs: 1500, intercept: () => ({ kind: 'auth', echoKey: true }) });
    try {
      const dir = tempDir('bench-dist-trouble-');
      const toml = `${configToml(flaky.openaiUrl).replace('[llm.oracle]', '[llm.flaky]')}\n${configToml(denied.openaiUrl).replace('[llm.oracle]', '[llm.denied]')}`;
      writeFileSync(join(dir, 'config.toml'), toml);
      const w = spawn(['worker', '--queue', redis.url, '-j', '1', '--config', join(dir, 'config.toml'), '--run-id', 'trouble'], dir, { BENCH_CACHE_DIR: join(dir, 'wcache'), BENCH_RESULTS_DIR: join(dir, 'wresults'), CI: '1', BENCH_QUEUE_LOCK_MS: '2000' });
      const six = ['benchlab__csvkit-1', 'benchlab__csvkit-2', 'benchlab__csvkit-3', 'benchlab__csvkit-4', 'benchlab__csvkit-5', 'benchlab__semverlite-1'];
      const run = await bench(['run', '--queue', redis.url, '--config', join(dir, 'config.toml'), '--configs', 'flaky,denied', '--agent', 'patch', '--instances', six.join(','),
        '--fail-fast', '2', '--db', join(dir, 'bench.db'), '--run-id', 'trouble'], { cwd: dir, env: { BENCH_CACHE_DIR: join(dir, 'cache'), BENCH_RESULTS_DIR: join(dir, 'results'), CI: '1' }, timeout: 300_000 });
      await stop(w);
      printed.push(run.stdout, run.stderr);
      expect(run.exitCode, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/^flaky: .*429.*, retry 1\/2 in 0s$/m);
      expect(run.stderr).toMatch(/^flaky: calls get through again$/m);
      expect(run.stderr).toMatch(/denied: no more attempts for this config after 2 identical provider errors in a row/);
      expect(run.stderr).toMatch(/denied was stopped after 2 identical provider errors/);
      const raw = new Database(join(dir, 'bench.db'), { readonly: true });
      const stored = raw.prepare("SELECT config_name, count(*) AS n FROM attempts WHERE run_id = 'trouble' GROUP BY config_name ORDER BY config_name").all();
      raw.close();
      // Every flaky attempt ran; the denied config's waiting jobs were withdrawn (the ones a worker held finished).
      expect(stored).toEqual([{ config_name: 'denied', n: expect.any(Number) }, { config_name: 'flaky', n: 6 }]);
      expect((stored[0] as { n: number }).n).toBeLessThan(6);
      expect(await everythingIn(redis.url)).not.toContain(API_KEY);
      expect(run.stderr).not.toContain(API_KEY);
      // Under a spending cap the jobs are handed out one by one (admitted first); the published run ends finished either way.
      limited = false;
      const w2 = spawn(['worker', '--queue', redis.url, '-j', '1', '--config', join(dir, 'config.toml'), '--run-id', 'trouble-capped'], dir, { BENCH_CACHE_DIR: join(dir, 'wcache'), BENCH_RESULTS_DIR: join(dir, 'wresults'), CI: '1', BENCH_QUEUE_LOCK_MS: '2000' });
      const capped = await bench(['run', '--queue', redis.url, '--config', join(dir, 'config.toml'), '--configs', 'flaky,denied', '--agent', 'patch', '--instances', six.join(','),
        '--fail-fast', '2', '--max-cost', '100', '--allow-unpriced', '--db', join(dir, 'bench.db'), '--run-id', 'trouble-capped'], { cwd: dir, env: { BENCH_CACHE_DIR: join(dir, 'cache'), BENCH_RESULTS_DIR: join(dir, 'results'), CI: '1' }, timeout: 300_000 });
      await stop(w2);
      printed.push(capped.stdout, capped.stderr);
      expect(capped.stderr).toMatch(/denied was stopped after 2 identical provider errors/);
      const listed = JSON.parse((await bench(['queue', 'status', '--queue', redis.url, '--json'])).stdout) as { runId: string; status: string }[];
      expect(listed.filter((r) => r.runId.startsWith('trouble')).map((r) => [r.runId, r.status]).sort()).toEqual([['trouble', 'finished'], ['trouble-capped', 'finished']]);
    } finally {
      await flaky.close();
      await denied.close();
    }
  }, 300_000);

  test('--max-cost hands the workers only the attempts the cap can pay for, the ones in flight included', async () => {
    // $0.01 an attempt, four slots on two workers: all four would be taken at once if all were queued.
    const priced = await startOracleModel({ latencyMs: 300, usage: { input: 1000, output: 0 } });
    try {
      const dir = tempDir('bench-dist-capped-');
      const prices = 'input_cost_per_token = 0.00001\noutput_cost_per_token = 0';
      writeFileSync(join(dir, 'config.toml'), configToml(priced.openaiUrl, prices));
      const workers = [worker(priced.openaiUrl, { extraToml: prices, args: ['--run-id', 'capped'] }), worker(priced.openaiUrl, { extraToml: prices, args: ['--run-id', 'capped'] })];
      const run = await bench(['run', '--queue', redis.url, '--config', join(dir, 'config.toml'), '--configs', 'oracle', '--agent', 'patch', '--instances', INSTANCES.join(','),
        '--max-cost', '0.025', '--db', join(dir, 'bench.db'), '--run-id', 'capped'], { cwd: dir, env: { BENCH_CACHE_DIR: join(dir, 'cache'), BENCH_RESULTS_DIR: join(dir, 'results'), CI: '1' }, timeout: 300_000 });
      for (const w of workers) await stop(w);
      printed.push(run.stdout, run.stderr);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.stderr).toMatch(/Stopped starting attempts at --max-cost 0\.025/);
      const raw = new Database(join(dir, 'bench.db'), { readonly: true });
      const spent = raw.prepare("SELECT count(*) AS n, sum(cost_usd) AS usd FROM attempts WHERE run_id = 'capped'").get();
      raw.close();
      // Stored and paid for: two. (Requests are not counted: a worker whose job lock lapses on a loaded machine hands the job on.)
      expect(spent).toEqual({ n: 2, usd: expect.closeTo(0.02, 9) });
    } finally {
      await priced.close();
    }
  }, 300_000);
});
