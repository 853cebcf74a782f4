import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, onTestFinished, test } from 'vitest';
import { execa } from 'execa';
import { BENCH_BIN, PROJECT_ROOT, bench } from '../helpers/cli.ts';
import { bwrapAvailable } from '../../src/sandbox/index.ts';
import { startLlmServer, type Script } from '../helpers/llm-server.ts';

const API_KEY = 'sk-test-preflight-3f9a61c0d2e84b7a';
const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function section(name: string, model: string, baseUrl: string): string {
  return `[llm.${name}]\nmodel = "${model}"\nbase_url = "${baseUrl}"\napi_key = "${API_KEY}"\nnum_retries = 8\nretry_min_wait = 30\n`;
}

/** `bench run --agent patch --configs NAMES` in a temp folder with this config; the database path is returned too. */
async function run(toml: string, configs: string[], extra: string[] = []) {
  const dir = mkdtempSync(join(tmpdir(), 'bench-preflight-'));
  made.push(dir);
  writeFileSync(join(dir, 'config.toml'), toml);
  const db = join(dir, 'bench.db');
  const started = Date.now();
  const result = await bench(['run', '--config', join(dir, 'config.toml'), '--agent', 'patch', '--configs', configs.join(','), '--db', db, ...extra], {
    cwd: dir, env: { BENCH_RESULTS_DIR: join(dir, 'results'), BENCH_CACHE_DIR: join(dir, 'cache'), CI: '1', BENCH_NO_PREFLIGHT: undefined }, timeout: 60_000,
  });
  return { ...result, db, seconds: (Date.now() - started) / 1000 };
}

/** A port on 127.0.0.1 where nothing listens: connections to it are refused. */
async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function server(script: Script) {
  const started = await startLlmServer(script);
  onTestFinished(() => started.close());
  return started;
}

describe('bench run pre-flight', () => {
  test('a refused port ends the run before any attempt, one paragraph per config, exit 2', async () => {
    const port = await refusedPort();
    const url = `http://127.0.0.1:${port}/v1`;
    const result = await run(section('alpha', 'openai/gpt-4o', url) + section('beta', 'openai/gpt-4o-mini', url), ['alpha', 'beta']);
    expect(result.exitCode, result.stderr).toBe(2);
    // The seed also holds an explorer and writer pair, which --configs does not run: a warning line says so first.
    const paragraphs = result.stderr.replace(/^warning: .*\n/gm, '').trim().split(/\n\s*\n/);
    expect(paragraphs.find((p) => p.includes("'alpha'"))).toMatch(/connection.*ECONNREFUSED[\s\S]*base_url/);
    expect(paragraphs.find((p) => p.includes("'beta'"))).toMatch(/connection.*ECONNREFUSED/);
    expect(result.stderr).toMatch(/Nothing was run/);
    // Not retried: with num_retries 8 and 30 s waits, a retry would take minutes.
    expect(result.seconds).toBeLessThan(90);
    expect(existsSync(result.db)).toBe(false);
    expect(result.stderr + result.stdout).not.toContain(API_KEY);
  });

  test('a refused key (401) and an unknown model (404) are named, the key never printed', async () => {
    const auth = await server([{ kind: 'auth', echoKey: true }]);
    const missing = await server([{ kind: 'not_found' }]);
    const result = await run(section('keyed', 'openai/gpt-4o', auth.openaiUrl) + section('ghost', 'openai/no-such-model', missing.openaiUrl), ['keyed', 'ghost']);
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/'keyed'[^\n]*HTTP 401[^\n]*refused the key/);
    // Says where the refused key came from.
    expect(result.stderr).toMatch(/'keyed' [^\n]*key from api_key in \S*config\.toml:\d+\)/);
    expect(result.stderr).toMatch(/'ghost'[^\n]*HTTP 404[^\n]*does not know this model/);
    expect(result.stderr + result.stdout).not.toContain(API_KEY);
    // One request each: the pre-flight never retries.
    expect(auth.requests).toHaveLength(1);
    expect(missing.requests).toHaveLength(1);
    expect(existsSync(result.db)).toBe(false);
  });

  test('configs sharing an endpoint, key and model are checked with one request', async () => {
    const auth = await server([{ kind: 'auth' }]);
    const result = await run(section('one', 'openai/gpt-4o', auth.openaiUrl) + section('two', 'openai/gpt-4o', auth.openaiUrl), ['one', 'two']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/'one'[\s\S]*'two'/);
    expect(auth.requests).toHaveLength(1);
  });

  test('BENCH_NO_PREFLIGHT=1 skips the check as --no-preflight does', async () => {
    const auth = await server([{ kind: 'auth' }]);
    const dir = mkdtempSync(join(tmpdir(), 'bench-preflight-'));
    made.push(dir);
    writeFileSync(join(dir, 'config.toml'), section('keyed', 'openai/gpt-4o', auth.openaiUrl));
    const result = await bench(['run', '--config', join(dir, 'config.toml'), '--agent', 'patch', '--configs', 'keyed', '--instances', 'benchlab__csvkit-1', '--db', join(dir, 'bench.db'), '--json'], {
      cwd: dir, env: { BENCH_RESULTS_DIR: join(dir, 'results'), BENCH_CACHE_DIR: join(dir, 'cache'), CI: '1', BENCH_NO_PREFLIGHT: '1' },
    });
    expect(result.stderr).not.toMatch(/pre-flight/);
    expect(result.stderr).toMatch(/keyed: 1 model_error: .*HTTP 401/);
    expect(result.exitCode).toBe(1);
  });

  test('--no-preflight skips the check', async () => {
    const auth = await server([{ kind: 'auth' }]);
    const result = await run(section('keyed', 'openai/gpt-4o', auth.openaiUrl), ['keyed'], ['--no-preflight', '--instances', 'benchlab__csvkit-1']);
    expect(result.stderr).not.toMatch(/pre-flight/);
    expect(auth.requests.length).toBeGreaterThan(0);
  });
});

describe('bench run fail-fast', () => {
  test('identical provider errors in a row stop one config; the other goes on; errors summarised; exit 1', async () => {
    const revoked = await server([{ kind: 'auth' }]);
    const chatty = await server([{ kind: 'success', text: 'I would rather not write a patch.' }]);
    const ids = 'benchlab__csvkit-1,benchlab__exprcalc-1,benchlab__iniconf-2,benchlab__semverlite-1';
    const toml = section('revoked', 'openai/gpt-4o', revoked.openaiUrl) + section('chatty', 'openai/gpt-4o-mini', chatty.openaiUrl);
    const result = await run(toml, ['revoked', 'chatty'], ['--no-preflight', '--fail-fast', '2', '-j', '1', '--instances', ids, '--json']);
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/revoked: no more attempts for this config after 2 identical provider errors in a row: .*HTTP 401/);
    expect(result.stderr).toMatch(/Failed attempts:\n {2}revoked: 2 model_error: .*HTTP 401/);
    const report = JSON.parse(result.stdout);
    const rows = JSON.stringify(report);
    // A config none of whose attempts got an answer measured nothing: off the frontier, and marked.
    const revokedRow = report.configs.find((c: { config: string }) => c.config === 'revoked');
    expect(revokedRow).toMatchObject({ failedOnly: true, onFrontier: false });
    expect(report.frontierLeftOut).toContain('revoked');
    expect(report.frontier).not.toContain('revoked');
    // The stopped config made two attempts (one request each: a 401 is not retried); the other made all four.
    expect(revoked.requests).toHaveLength(2);
    expect(rows).toContain('chatty');
    expect(chatty.requests.length).toBeGreaterThanOrEqual(4);
    expect(result.stderr + result.stdout).not.toContain(API_KEY);
  });
});

describe('bench run retry notices', () => {
  test('a line when a config starts retrying and one when it recovers', async () => {
    const busy = await server([{ kind: 'rate_limit', retryAfter: '1', message: 'slow down' }, { kind: 'rate_limit', retryAfter: '1', message: 'slow down' }, { kind: 'success', text: 'No patch from me.' }]);
    const toml = section('busy', 'openai/gpt-4o', busy.openaiUrl);
    const result = await run(toml, ['busy'], ['--no-preflight', '-j', '1', '--instances', 'benchlab__csvkit-1', '--json']);
    expect(result.stderr).toMatch(/busy: HTTP 429[^\n]*slow down[^\n]*, retry 1\/8 in 1s\n/);
    // Only the first retry of the streak is announced, then the recovery.
    expect(result.stderr).not.toMatch(/retry 2\/8/);
    expect(result.stderr).toMatch(/busy: calls get through again/);
  });
});

const offline = await bwrapAvailable();
if (!offline) console.warn('the no-network pre-flight test is skipped: bwrap (apt-get install bubblewrap) is needed to take the network away');

describe.runIf(offline)('with no network at all', () => {
  /** `bench run --configs gpt3,high-creativity` with the example config as config.toml, in a network namespace of its own. */
  async function seedRun(env: Record<string, string>) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-offline-'));
    made.push(dir);
    writeFileSync(join(dir, 'config.toml'), readFileSync(join(PROJECT_ROOT, 'config.example.toml')));
    const started = Date.now();
    const result = await execa('bwrap', ['--dev-bind', '/', '/', '--unshare-net', '--chdir', dir, process.execPath, BENCH_BIN, 'run', '--configs', 'gpt3,high-creativity'], {
      env: { PATH: process.env.PATH!, HOME: process.env.HOME!, NO_COLOR: '1', CI: '1', BENCH_DB: join(dir, 'bench.db'), BENCH_RESULTS_DIR: join(dir, 'results'), ...env },
      extendEnv: false, reject: false, timeout: 60_000,
    });
    return { ...result, seconds: (Date.now() - started) / 1000, db: join(dir, 'bench.db') };
  }

  test('the seed\'s two configs end within 30 s, one paragraph per config, non-zero exit', async () => {
    const result = await seedRun({ OPENAI_API_KEY: API_KEY });
    expect(result.exitCode, result.stderr).not.toBe(0);
    expect(result.seconds).toBeLessThan(30);
    // The seed also holds an explorer and writer pair, which --configs does not run: a warning line says so first.
    const paragraphs = result.stderr.replace(/^warning: .*\n/gm, '').trim().split(/\n\s*\n/);
    expect(paragraphs.find((p) => p.includes("'gpt3'"))).toMatch(/pre-flight request failed: connection.*api\.openai\.com/);
    expect(paragraphs.find((p) => p.includes("'high-creativity'"))).toMatch(/pre-flight request failed: connection.*api\.openai\.com/);
    expect(result.stderr).not.toContain(API_KEY);
    expect(existsSync(result.db)).toBe(false);
  });

  test('without a key both configs are named at once, each with the variable to set', async () => {
    const result = await seedRun({});
    expect(result.exitCode).toBe(2);
    // The seed also holds an explorer and writer pair, which --configs does not run: a warning line says so first.
    const paragraphs = result.stderr.replace(/^warning: .*\n/gm, '').trim().split(/\n\s*\n/);
    expect(paragraphs).toHaveLength(3);
    expect(paragraphs[0]).toMatch(/^error: LLM config 'gpt3' .*has no API key\. Set OPENAI_API_KEY/);
    expect(paragraphs[1]).toMatch(/^LLM config 'high-creativity' .*has no API key/);
    expect(paragraphs[2]).toBe('Nothing was run.');
  });
});
