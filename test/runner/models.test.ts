import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calcPrice } from '@pydantic/genai-prices';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { bench } from '../helpers/cli.ts';
import { apiKeyOf, startLlmServer, type LlmServer, type ScriptedUsage } from '../helpers/llm-server.ts';
import { startOracleModel, type OracleModel, type OracleOptions } from '../helpers/oracle-model.ts';

const API_KEY = 'sk-test-models-7c41e9a2d05b8f36aa19';
const A = 'benchlab__csvkit-1';
const B = 'benchlab__iniconf-2';
const C = 'benchlab__semverlite-1';
const D = 'benchlab__exprcalc-1';
const USAGE: ScriptedUsage = { input: 1200, output: 80, cacheRead: 1000 };

type Row = Record<string, any>;
type Result = { exitCode: number; stdout: string; stderr: string };

let sharedCache: string;
/** Everything any command of this file printed, for the API-key check. */
const printed: string[] = [];
const made: string[] = [];

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

beforeAll(() => {
  sharedCache = tempDir('bench-models-cache-');
});

afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** An `[llm.NAME]` section reaching a local server, with waits short enough for tests. */
function llmSection(name: string, model: string, baseUrl: string, extra: Record<string, string | number> = {}): string {
  const keys = { model, base_url: baseUrl, api_key: API_KEY, num_retries: 2, retry_min_wait: 0, retry_max_wait: 1, retry_multiplier: 0.05, ...extra };
  return [`[llm.${name}]`, ...Object.entries(keys).map(([key, value]) => `${key} = ${typeof value === 'string' ? JSON.stringify(value) : value}`), ''].join('\n');
}

/** A temp folder with a config.toml, its own database and results folder; `run` is `bench run` on them. */
function project(toml: string, options: { cacheDir?: string } = {}) {
  const dir = tempDir('bench-models-');
  const config = join(dir, 'config.toml');
  const db = join(dir, 'bench.db');
  writeFileSync(config, toml);
  const env = { BENCH_CACHE_DIR: options.cacheDir ?? sharedCache, BENCH_RESULTS_DIR: join(dir, 'results'), CI: '1' };
  const cli = async (args: string[]): Promise<Result> => {
    const result = await bench([...args, '--db', db], { cwd: dir, env });
    printed.push(result.stdout, result.stderr);
    return result;
  };
  return {
    dir, db, cli,
    run: (args: string[]) => cli(['run', '--config', config, ...args]),
    query(sql: string, ...params: unknown[]): Row[] {
      const raw = new Database(db, { readonly: true });
      try {
        return raw.prepare(sql).all(...params) as Row[];
      } finally {
        raw.close();
      }
    },
    async report(runId: string): Promise<any> {
      const result = await cli(['report', runId, '--format', 'json']);
      expect(result.exitCode, result.stderr).toBe(0);
      return JSON.parse(result.stdout);
    },
  };
}

async function oracle(options: OracleOptions = {}): Promise<OracleModel> {
  const server = await startOracleModel({ usage: USAGE, ...options });
  onTestFinished(() => server.close());
  return server;
}

async function scripted(...args: Parameters<typeof startLlmServer>): Promise<LlmServer> {
  const server = await startLlmServer(...args);
  onTestFinished(() => server.close());
  return server;
}

function outcomes(p: ReturnType<typeof project>, runId: string): Record<string, string> {
  const rows = p.query('SELECT instance_id, config_name, repeat, outcome FROM attempts WHERE run_id = ? ORDER BY instance_id, config_name, repeat', runId);
  return Object.fromEntries(rows.map((r) => [`${r.instance_id}/${r.config_name}/${r.repeat}`, r.outcome]));
}

/** The price @pydantic/genai-prices gives for one call's usage (bench's input count includes the cache). */
function libraryPrice(model: string, providerId: string, usage: ScriptedUsage): number {
  const price = calcPrice(
    { input_tokens: usage.input ?? 0, output_tokens: usage.output ?? 0, cache_read_tokens: usage.cacheRead ?? 0, cache_write_tokens: usage.cacheWrite ?? 0 },
    model, { providerId },
  );
  if (!price) throw new Error(`the price table has no ${providerId}/${model}`);
  return price.total_price;
}

describe('real model configs end to end', () => {
  test('the bash agent solves built-in instances, recording tokens, the library price and a 429 retried once', async () => {
    let rateLimited = false;
    const server = await oracle({
      intercept: () => (rateLimited ? undefined : ((rateLimited = true), { kind: 'rate_limit', retryAfter: '0' })),
    });
    const p = project(llmSection('strong', 'openai/gpt-4o-mini', server.openaiUrl));
    const result = await p.run(['--configs', 'strong', '--agent', 'bash', '--instances', `${A},${B}`, '--run-id', 'bash']);
    expect(result.exitCode, result.stderr).toBe(0);

    const attempts = p.query('SELECT id, instance_id, outcome, exit_reason, calls, retries, tokens_in, tokens_out, tokens_cache_read, cost_usd, cost_unknown FROM attempts ORDER BY instance_id');
    expect(attempts.map((a) => [a.instance_id, a.outcome, a.exit_reason, a.calls])).toEqual([[A, 'resolved', 'submitted', 2], [B, 'resolved', 'submitted', 2]]);
    const price = libraryPrice('gpt-4o-mini', 'openai', USAGE);
    expect(price).toBeGreaterThan(0);
    const calls = p.query('SELECT * FROM llm_calls ORDER BY attempt_id, seq');
    expect(calls).toHaveLength(4);
    for (const call of calls) {
      expect(call).toMatchObject({ config_name: 'strong', role: 'main', status: 'ok', model: 'gpt-4o-mini', tokens_in: 1200, tokens_out: 80, tokens_cache_read: 1000 });
      expect(Math.abs(call.cost_usd - price)).toBeLessThan(1e-6);
    }
    for (const attempt of attempts) {
      expect(attempt).toMatchObject({ tokens_in: 2400, tokens_out: 160, tokens_cache_read: 2000, cost_unknown: 0 });
      expect(Math.abs(attempt.cost_usd - 2 * price)).toBeLessThan(1e-6);
    }
    // One call saw the 429 and went through on its retry; the others went through at once.
    expect(calls.map((c) => c.retries).sort()).toEqual([0, 0, 0, 1]);
    const retried = calls.find((c) => c.retries === 1)!;
    expect(JSON.parse(retried.tries_json).map((t: Row) => t.errorClass ?? t.status)).toEqual(['rate_limit', 'ok']);
    expect(attempts.reduce((sum, a) => sum + a.retries, 0)).toBe(1);
    expect(server.requests).toHaveLength(5);
  });

  test('the patch agent solves built-in instances over the Anthropic wire format, priced with the cache read and write', async () => {
    const usage = { input: 1500, output: 120, cacheRead: 1000, cacheWrite: 200 };
    const server = await oracle({ usage });
    const p = project(llmSection('haiku', 'anthropic/claude-3-5-haiku-latest', server.url));
    const result = await p.run(['--configs', 'haiku', '--agent', 'patch', '--instances', `${A},${C}`, '--run-id', 'patch']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(server.requests.map((r) => [r.format, apiKeyOf(r)])).toEqual([['anthropic', API_KEY], ['anthropic', API_KEY]]);

    const attempts = p.query('SELECT instance_id, outcome, exit_reason, calls, malformed_count, cost_usd FROM attempts ORDER BY instance_id');
    expect(attempts.map((a) => [a.instance_id, a.outcome, a.exit_reason, a.calls, a.malformed_count])).toEqual([[A, 'resolved', 'submitted', 1, 0], [C, 'resolved', 'submitted', 1, 0]]);
    const price = libraryPrice('claude-3-5-haiku-latest', 'anthropic', usage);
    for (const call of p.query('SELECT * FROM llm_calls')) {
      expect(call).toMatchObject({ provider: 'anthropic', tokens_in: 1500, tokens_out: 120, tokens_cache_read: 1000, tokens_cache_write: 200, retries: 0 });
      expect(Math.abs(call.cost_usd - price)).toBeLessThan(1e-6);
    }
    const report = await p.report('patch');
    expect(report.configs[0]).toMatchObject({ config: 'haiku', resolved: 2, total: 2, costUnknown: false });
    expect(Math.abs(report.configs[0].totalCost - 2 * price)).toBeLessThan(1e-6);
  });

  test('two configs in one run: the table and the JSON report show both, the per-instance matrix, the pairwise test and the frontier', async () => {
    const strong = await oracle({ usage: { input: 2000, output: 150 } });
    const weak = await oracle({ usage: { input: 2000, output: 150 }, skill: /csvkit/, miss: 'wrong' });
    const p = project(llmSection('strong', 'openai/gpt-4o', strong.openaiUrl) + llmSection('weak', 'openai/gpt-4o-mini', weak.openaiUrl));
    const result = await p.run(['--configs', 'strong,weak', '--agent', 'patch', '--instances', `${A},${B},${C}`, '--run-id', 'pair']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/strong/);
    expect(result.stdout).toMatch(/weak/);
    for (const id of [A, B, C]) expect(result.stdout).toContain(id);
    expect(result.stdout).toMatch(/100\.0%/);
    expect(result.stdout).toMatch(/33\.3%/);

    const report = await p.report('pair');
    const byName = Object.fromEntries(report.configs.map((c: Row) => [c.config, c]));
    expect(byName.strong).toMatchObject({ model: 'openai/gpt-4o', total: 3, resolved: 3, rate: 1 });
    expect(byName.weak).toMatchObject({ model: 'openai/gpt-4o-mini', total: 3, resolved: 1, outcomes: expect.objectContaining({ resolved: 1, unresolved: 2 }) });
    expect(report.matrix.configs).toEqual(['strong', 'weak']);
    expect(report.matrix.rows.map((r: Row) => [r.instanceId, r.cells.map((c: Row) => c.outcome)])).toEqual([
      [A, ['resolved', 'resolved']], [B, ['resolved', 'unresolved']], [C, ['resolved', 'unresolved']],
    ]);
    expect(report.baseline).toBe('strong');
    // McNemar exact on 0 wins and 2 losses: 2 * P(X <= 0; 2, 0.5) = 0.5.
    expect(report.pairwise).toEqual([expect.objectContaining({ baseline: 'strong', config: 'weak', paired: 3, wins: 0, losses: 2, ties: 1, pValue: 0.5 })]);
    // gpt-4o-mini is the cheaper of the two for the same usage, gpt-4o the better: both on the frontier, cheapest first.
    expect(byName.weak.totalCost).toBeLessThan(byName.strong.totalCost);
    expect(report.frontier).toEqual(['weak', 'strong']);
  });

  test('a model with no known price is reported with an unknown cost, never $0', async () => {
    const server = await oracle();
    const p = project(llmSection('mystery', 'openai/no-such-model-xyz', server.openaiUrl));
    const result = await p.run(['--configs', 'mystery', '--agent', 'patch', '--instances', A, '--run-id', 'mystery']);
    expect(result.exitCode, result.stderr).toBe(0);
    // $/task, $/resolved and total cost all say so; no cell shows a zero amount.
    expect(result.stdout).toMatch(/│ mystery │.*│\s+unknown │\s+unknown │\s+unknown │/);
    expect(result.stdout).not.toMatch(/│\s*\$?0(\.0+)?\s*│/);
    expect(p.query('SELECT outcome, cost_usd, cost_unknown FROM attempts')).toEqual([{ outcome: 'resolved', cost_usd: null, cost_unknown: 1 }]);
    expect(p.query('SELECT cost_usd FROM llm_calls')).toEqual([{ cost_usd: null }]);
    const report = await p.report('mystery');
    expect(report.configs[0]).toMatchObject({ costUnknown: true, totalCost: null, costPerTask: null, costPerResolved: null });
    expect(report.notes.join(' ')).toMatch(/unknown/i);
  });

  test('an [agent.NAME] patch agent with llm_config and explorer_llm_config attributes each call to its config and role', async () => {
    const coder = await oracle();
    const scout = await oracle({ usage: { input: 400, output: 20 } });
    const toml = `${llmSection('coder', 'openai/gpt-4o', coder.openaiUrl)}${llmSection('scout', 'openai/gpt-4o-mini', scout.openaiUrl)}
[agent.duo]
type = "patch"
llm_config = "coder"
explorer_llm_config = "scout"
`;
    const p = project(toml);
    const result = await p.run(['--agent', 'duo', '--instances', `${A},${B}`, '--run-id', 'duo']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(p.query('SELECT instance_id, config_name, agent, outcome FROM attempts ORDER BY instance_id')).toEqual([
      { instance_id: A, config_name: 'coder', agent: 'duo', outcome: 'resolved' },
      { instance_id: B, config_name: 'coder', agent: 'duo', outcome: 'resolved' },
    ]);
    const calls = p.query('SELECT a.instance_id, c.seq, c.config_name, c.role, c.model, c.tokens_in, c.cost_usd FROM llm_calls c JOIN attempts a ON a.id = c.attempt_id ORDER BY a.instance_id, c.seq');
    expect(calls.map((c) => [c.instance_id, c.seq, c.config_name, c.role, c.model, c.tokens_in])).toEqual([
      [A, 0, 'scout', 'explorer', 'gpt-4o-mini', 400], [A, 1, 'coder', 'main', 'gpt-4o', 1200],
      [B, 0, 'scout', 'explorer', 'gpt-4o-mini', 400], [B, 1, 'coder', 'main', 'gpt-4o', 1200],
    ]);
    expect(Math.abs(calls[0]!.cost_usd - libraryPrice('gpt-4o-mini', 'openai', { input: 400, output: 20 }))).toBeLessThan(1e-6);
    expect(Math.abs(calls[1]!.cost_usd - libraryPrice('gpt-4o', 'openai', USAGE))).toBeLessThan(1e-6);
    expect(scout.requests.map((r) => scout.read(r).role)).toEqual(['explorer', 'explorer']);
    expect(coder.requests.map((r) => coder.read(r).role)).toEqual(['patch', 'patch']);
  });

  test('a provider error that outlasts the retries is a model_error with its message kept; the run goes on and, every attempt having failed, exits 1', async () => {
    const failing = await scripted([{ kind: 'server_error' }]);
    const p = project(llmSection('flaky', 'openai/gpt-4o-mini', failing.openaiUrl) + llmSection('locked', 'openai/gpt-4o-mini', (await scripted([{ kind: 'auth' }])).openaiUrl));
    const run = await p.run(['--configs', 'flaky', '--agent', 'patch', '--instances', `${A},${B}`, '--run-id', 'down']);
    expect(run.exitCode, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/Failed attempts:\n {2}flaky: 2 model_error: retries exhausted: server_error: HTTP 500/);
    const attempts = p.query("SELECT outcome, exit_reason, error, calls, retries FROM attempts WHERE run_id = 'down'");
    expect(attempts).toHaveLength(2);
    for (const attempt of attempts) {
      expect(attempt).toMatchObject({ outcome: 'model_error', exit_reason: 'model_error', calls: 1, retries: 2 });
      expect(attempt.error).toMatch(/retries exhausted \(num_retries = 2\).*server_error/);
    }
    const calls = p.query('SELECT status, error_class, error_message, retries, tries_json, cost_usd FROM llm_calls');
    for (const call of calls) {
      // Nothing billed: the call costs what the attempt counts for it, $0, not an unknown.
      expect(call).toMatchObject({ status: 'error', error_class: 'server_error', retries: 2, cost_usd: 0 });
      expect(JSON.parse(call.tries_json).map((t: Row) => t.httpStatus)).toEqual([500, 500, 500]);
    }
    expect(failing.requests).toHaveLength(6);

    const strict = await p.run(['--configs', 'locked', '--agent', 'patch', '--instances', A, '--run-id', 'denied', '--strict']);
    expect(strict.exitCode, strict.stderr).toBe(1);
    expect(p.query("SELECT outcome, error FROM attempts WHERE run_id = 'denied'")).toEqual([{ outcome: 'model_error', error: expect.stringMatching(/not retried: auth/) }]);
    expect(p.query("SELECT c.retries, c.error_class FROM llm_calls c JOIN attempts a ON a.id = c.attempt_id WHERE a.run_id = 'denied'")).toEqual([{ retries: 0, error_class: 'auth' }]);
  });

  test('an answer with no edit in it is a malformed attempt, its count recorded', async () => {
    const server = await oracle({ skill: () => false });
    const p = project(llmSection('confused', 'openai/gpt-4o-mini', server.openaiUrl));
    const result = await p.run(['--configs', 'confused', '--agent', 'patch', '--instances', A, '--run-id', 'garbled']);
    expect(result.exitCode, result.stderr).toBe(0);
    // The answer and its three repair turns (max_repair_turns, as Aider) each held no edit.
    expect(p.query('SELECT outcome, exit_reason, malformed_count, patch FROM attempts')).toEqual([{ outcome: 'malformed', exit_reason: 'malformed', malformed_count: 4, patch: null }]);
    const report = await p.report('garbled');
    expect(report.configs[0]).toMatchObject({ malformedResponses: 4, outcomes: expect.objectContaining({ malformed: 1 }) });
  });
});

describe('spending limits', () => {
  test('max_budget_per_task stops a bash agent whose model never submits', async () => {
    const server = await scripted([{ kind: 'success', text: 'Let me look around.\n\n```bash\nls\n```\n', usage: { input: 300, output: 50 } }]);
    const toml = `${llmSection('spender', 'openai/gpt-4o-mini', server.openaiUrl, { input_cost_per_token: 0.000001, output_cost_per_token: 0.000002 })}
[agent.thrifty]
type = "bash"
tool_mode = "text"
max_budget_per_task = 0.001
`;
    const p = project(toml);
    const result = await p.run(['--configs', 'spender', '--agent', 'thrifty', '--instances', A, '--run-id', 'thrifty']);
    expect(result.exitCode, result.stderr).toBe(0);
    // 0.0004 per call: the third call crosses $0.001 and no fourth is made.
    const [attempt] = p.query('SELECT outcome, exit_reason, calls, cost_usd, trajectory_json FROM attempts');
    expect(attempt).toMatchObject({ outcome: 'empty_patch', exit_reason: 'budget', calls: 3 });
    expect(attempt!.cost_usd).toBeCloseTo(0.0012, 9);
    expect(attempt!.trajectory_json).toMatch(/budget reached/);
    expect(server.requests).toHaveLength(3);
  });

  test('--max-cost starts no attempt that its expected cost would carry past the cap, and says so', async () => {
    const server = await oracle({ usage: { input: 1000, output: 0 } });
    const p = project(llmSection('priced', 'openai/gpt-4o-mini', server.openaiUrl, { input_cost_per_token: 0.00001, output_cost_per_token: 0 }));
    const result = await p.run(['--configs', 'priced', '--agent', 'patch', '--instances', `${A},${B},${C},${D}`, '-j', '1', '--max-cost', '0.015', '--run-id', 'capped']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/Stopped starting attempts at --max-cost 0\.015; resume with a higher --max-cost and --run-id capped/);
    // $0.01 an attempt: the second would end at $0.02, past the cap, so it never starts.
    expect(p.query('SELECT count(*) AS n, sum(cost_usd) AS spent FROM attempts')).toEqual([{ n: 1, spent: expect.closeTo(0.01, 9) }]);
    expect(server.requests).toHaveLength(1);
    const report = await p.report('capped');
    expect(report.configs[0].coverage).toMatchObject({ partial: true });
  });

  test('--max-cost reserves for the attempts in flight: -j 4 does not start four attempts the cap can pay for two of', async () => {
    const server = await oracle({ usage: { input: 1000, output: 0 }, latencyMs: 300 });
    const p = project(llmSection('priced', 'openai/gpt-4o-mini', server.openaiUrl, { input_cost_per_token: 0.00001, output_cost_per_token: 0 }));
    const result = await p.run(['--configs', 'priced', '--agent', 'patch', '--instances', `${A},${B},${C},${D}`, '-j', '4', '--max-cost', '0.025', '--run-id', 'reserved']);
    expect(result.exitCode, result.stderr).toBe(0);
    // Nothing to go by at first: one attempt alone; then $0.01 each is reserved before starting: 0.01 + 0.01 fits, a third would not.
    expect(p.query('SELECT count(*) AS n, sum(cost_usd) AS spent FROM attempts')).toEqual([{ n: 2, spent: expect.closeTo(0.02, 9) }]);
    expect(server.requests).toHaveLength(2);
  });

  test('--max-cost with a config bench cannot price is refused unless --allow-unpriced', async () => {
    const server = await oracle({ usage: { input: 1000, output: 10 } });
    const p = project(llmSection('local', 'ollama/qwen2.5-coder:7b', server.openaiUrl));
    const refused = await p.run(['--configs', 'local', '--agent', 'patch', '--instances', A, '--max-cost', '1', '--run-id', 'unpriced']);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/^error: --max-cost 1 cannot be kept: bench knows no price for local \(model `ollama\/qwen2\.5-coder:7b`\).*Set input_cost_per_token and output_cost_per_token in \[llm\.local\].*--allow-unpriced/);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(p.db)).toBe(false);
    expect(server.requests).toHaveLength(0);
    const allowed = await p.run(['--configs', 'local', '--agent', 'patch', '--instances', A, '--max-cost', '1', '--allow-unpriced', '--run-id', 'unpriced']);
    expect(allowed.exitCode, allowed.stderr).toBe(0);
    expect(p.query('SELECT outcome, cost_usd FROM attempts')).toEqual([{ outcome: 'resolved', cost_usd: null }]);
  });

  test('--dry-run prints the attempts and a cost range from recorded token counts, calls no model and writes no run', async () => {
    const server = await oracle({ usage: { input: 1000, output: 0 } });
    const p = project([
      llmSection('priced', 'openai/gpt-4o-mini', server.openaiUrl, { input_cost_per_token: 0.00001, output_cost_per_token: 0 }),
      llmSection('dearer', 'openai/gpt-4o-mini', server.openaiUrl, { input_cost_per_token: 0.00003, output_cost_per_token: 0 }),
      llmSection('unpriced', 'ollama/qwen2.5-coder:7b', server.openaiUrl),
    ].join('\n'));
    const before = await p.run(['--configs', 'priced', '--agent', 'patch', '--instances', `${A},${B}`, '--run-id', 'history']);
    expect(before.exitCode, before.stderr).toBe(0);
    const calls = server.requests.length;
    const plan = await p.run(['--configs', 'priced,dearer,unpriced', '--agent', 'patch', '--instances', `${A},${B},${C}`, '--dry-run', '--run-id', 'planned']);
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/^Dry run: 9 attempts; no model is called and nothing is written\./);
    expect(plan.stdout).toContain(`  ${C}  dearer  #0`);
    // Two recorded attempts of 1000 input tokens each: $0.01 an attempt at priced's price, $0.03 at dearer's.
    expect(plan.stdout).toMatch(/priced +3 +\$0\.03 +tokens of 2 recorded attempts of priced \(agent patch\)/);
    expect(plan.stdout).toMatch(/dearer +3 +\$0\.09 +tokens of 2 recorded attempts of agent patch with other configs/);
    expect(plan.stdout).toMatch(/unpriced +3 +unknown +no price known for ollama\/qwen2\.5-coder:7b/);
    expect(plan.stdout).toMatch(/Estimated total: unknown/);
    expect(server.requests).toHaveLength(calls);
    expect(p.query('SELECT id FROM runs')).toEqual([{ id: 'history' }]);
    // A resume's dry run leaves out what the run already holds.
    const resume = await p.run(['--configs', 'priced', '--agent', 'patch', '--instances', `${A},${B},${C}`, '--dry-run', '--json', '--run-id', 'history']);
    expect(resume.exitCode, resume.stderr).toBe(0);
    expect(JSON.parse(resume.stdout)).toMatchObject({ done: 2, attempts: [{ instanceId: C, configName: 'priced', repeat: 0 }], configs: [{ config: 'priced', attempts: 1, low: expect.closeTo(0.01, 9), high: expect.closeTo(0.01, 9) }] });
  });
});

describe('repeats, cache and replay', () => {
  test('--runs 2 records repeats 0 and 1 of each (instance, config) and the JSON report gives pass@k', async () => {
    let iniconfAsked = 0;
    // Solves csvkit every time and iniconf only the first time it is asked: pass@1 = 0.75, pass@2 = 1.
    const server = await oracle({ skill: (id) => id === A || (id === B && iniconfAsked++ === 0), miss: 'wrong' });
    const p = project(llmSection('sampler', 'openai/gpt-4o-mini', server.openaiUrl, { temperature: 0.7 }));
    const result = await p.run(['--configs', 'sampler', '--agent', 'patch', '--instances', `${A},${B}`, '--runs', '2', '--run-id', 'twice', '--json']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(outcomes(p, 'twice')).toEqual({
      [`${A}/sampler/0`]: 'resolved', [`${A}/sampler/1`]: 'resolved',
      [`${B}/sampler/0`]: expect.any(String), [`${B}/sampler/1`]: expect.any(String),
    });
    expect([outcomes(p, 'twice')[`${B}/sampler/0`], outcomes(p, 'twice')[`${B}/sampler/1`]].sort()).toEqual(['resolved', 'unresolved']);
    // Each repeat is its own sample, never an answer reused from the other.
    expect(Object.fromEntries(server.answered)).toEqual({ [A]: 2, [B]: 2 });
    const report = JSON.parse(result.stdout);
    expect(report.configs[0]).toMatchObject({ repeats: 2, total: 4, resolved: 3, passK: 2, passKInstances: 2, passAt1: 0.75, passAtK: 1 });
  });

  test('--cache answers a second identical run without a request; --replay re-executes it offline; a diverging replay is a model_error', async () => {
    const server = await oracle();
    const cacheDir = tempDir('bench-models-responses-');
    const p = project(llmSection('cached', 'openai/gpt-4o-mini', server.openaiUrl), { cacheDir });
    const args = ['--configs', 'cached', '--agent', 'bash', '--instances', `${A},${B}`];
    const first = await p.run([...args, '--cache', '--run-id', 'recorded']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(server.requests).toHaveLength(4);
    const second = await p.run([...args, '--cache', '--run-id', 'from-cache']);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(server.requests).toHaveLength(4);
    expect(p.query("SELECT c.cached FROM llm_calls c JOIN attempts a ON a.id = c.attempt_id WHERE a.run_id = 'from-cache'")).toEqual(Array(4).fill({ cached: 1 }));
    const expected = outcomes(p, 'recorded');
    expect(Object.values(expected)).toEqual(['resolved', 'resolved']);
    expect(outcomes(p, 'from-cache')).toEqual(expected);

    await server.close();
    const replayed = await p.run([...args, '--replay', 'recorded', '--run-id', 'replayed']);
    expect(replayed.exitCode, replayed.stderr).toBe(0);
    expect(outcomes(p, 'replayed')).toEqual(expected);
    // The recorded costs come back with the answers, so a replay reports what the original run paid.
    expect(p.query("SELECT sum(cost_usd) AS cost FROM attempts WHERE run_id = 'replayed'")).toEqual(p.query("SELECT sum(cost_usd) AS cost FROM attempts WHERE run_id = 'recorded'"));

    // A replay needs no key: the same config without api_key replays alike, with the server gone.
    const keyless = join(p.dir, 'keyless.toml');
    writeFileSync(keyless, llmSection('cached', 'openai/gpt-4o-mini', server.openaiUrl).replace(/^api_key = .*\n/m, ''));
    const offline = await p.cli(['run', '--config', keyless, ...args, '--replay', 'recorded', '--run-id', 'replayed-keyless']);
    expect(offline.exitCode, offline.stderr).toBe(0);
    expect(outcomes(p, 'replayed-keyless')).toEqual(expected);

    // Another base_url is another server: its requests are not the recorded ones.
    const elsewhere = join(p.dir, 'elsewhere.toml');
    writeFileSync(elsewhere, llmSection('cached', 'openai/gpt-4o-mini', 'https://api.openai.com/v1'));
    const moved = await p.cli(['run', '--config', elsewhere, ...args, '--replay', 'recorded', '--run-id', 'replayed-elsewhere']);
    // Every attempt failed for the harness's reasons: the run measured nothing, and says so with exit 1.
    expect(moved.exitCode, moved.stderr).toBe(1);
    expect(Object.values(outcomes(p, 'replayed-elsewhere'))).toEqual(['model_error', 'model_error']);

    const diverged = await p.run(['--configs', 'cached', '--agent', 'bash', '--instances', C, '--replay', 'recorded', '--run-id', 'diverged']);
    expect(diverged.exitCode, diverged.stderr).toBe(1);
    expect(p.query("SELECT outcome, error FROM attempts WHERE run_id = 'diverged'")).toEqual([
      { outcome: 'model_error', error: expect.stringMatching(/replay of run recorded: no recorded response/) },
    ]);
   }, 240_000);
});

describe('resuming', () => {
  test('a run resumed with other settings for a config is refused, and nothing is written', async () => {
    const server = await oracle();
    const p = project(llmSection('tuned', 'openai/gpt-4o-mini', server.openaiUrl));
    const args = ['--configs', 'tuned', '--agent', 'patch', '--instances', A, '--run-id', 'tuned-run'];
    expect((await p.run([...args, '--set', 'temperature=0.1'])).exitCode).toBe(0);
    const before = p.query('SELECT count(*) AS n FROM attempts');
    const changed = await p.run([...args, '--set', 'temperature=0.5', '--instances', B]);
    expect(changed.exitCode).toBe(2);
    expect(changed.stderr).toMatch(/Run tuned-run was started with other settings for config `tuned`.*new --run-id/);
    expect(p.query('SELECT count(*) AS n FROM attempts')).toEqual(before);
    const same = await p.run([...args, '--set', 'temperature=0.1']);
    expect(same.exitCode, same.stderr).toBe(0);
    expect(same.stderr).toMatch(/0 attempts, 1 already done/);
  });
});

describe('secrets', () => {
  test('the API key appears in no database byte, `bench show --json`, `bench report --format json`, or any output', async () => {
    const server = await oracle();
    const echoing = await scripted([{ kind: 'auth', echoKey: true }]);
    const p = project(llmSection('good', 'openai/gpt-4o-mini', server.openaiUrl) + llmSection('leaky', 'openai/gpt-4o-mini', echoing.openaiUrl));
    const run = await p.run(['--configs', 'good,leaky', '--agent', 'bash', '--instances', A, '--run-id', 'keys']);
    expect(run.exitCode, run.stderr).toBe(0);
    // The provider put the whole key in its error message: it must be cut out before anything is written.
    expect(JSON.parse(p.query("SELECT c.tries_json FROM llm_calls c WHERE c.config_name = 'leaky'")[0]!.tries_json)[0].message).toMatch(/Incorrect API key/);
    expect(p.query('SELECT outcome FROM attempts ORDER BY config_name')).toEqual([{ outcome: 'resolved' }, { outcome: 'model_error' }]);
    for (const { id } of p.query('SELECT id FROM attempts')) {
      const show = await p.cli(['show', String(id), '--json']);
      expect(show.exitCode, show.stderr).toBe(0);
      expect(show.stdout).not.toContain(API_KEY);
    }
    const report = await p.cli(['report', 'keys', '--format', 'json']);
    expect(report.stdout).not.toContain(API_KEY);
    for (const file of [p.db, `${p.db}-wal`, `${p.db}-shm`]) {
      if (existsSync(file)) expect(readFileSync(file).includes(API_KEY), file).toBe(false);
    }
    expect(echoing.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${API_KEY}`]);
    // Every command this file ran, this one's included.
    for (const text of printed) expect(text).not.toContain(API_KEY);
  });

  test('an API key passed on the command line with --set is not recorded with the run', async () => {
    const server = await oracle();
    const toml = llmSection('cli', 'openai/gpt-4o-mini', server.openaiUrl).replace(/^api_key = .*\n/m, '');
    const p = project(toml);
    const run = await p.run(['--configs', 'cli', '--agent', 'patch', '--instances', A, '--run-id', 'set-key', '--set', `api_key=${API_KEY}`]);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${API_KEY}`]);
    expect(p.query("SELECT options_json FROM runs WHERE id = 'set-key'")[0]!.options_json).not.toContain(API_KEY);
    expect(readFileSync(p.db).includes(API_KEY)).toBe(false);
  });
});

describe('adaptive pacing', () => {
  test('with max_concurrency = 4 against a server that refuses a third request in flight, every attempt completes and none fails on the limit', async () => {
    let inFlight = 0;
    let refused = 0;
    const server = await oracle({
      latencyMs: 150,
      intercept: () => {
        if (inFlight >= 2) {
          refused++;
          return { kind: 'rate_limit', retryAfter: '0.2' };
        }
        inFlight++;
        setTimeout(() => inFlight--, 150);
        return undefined;
      },
    });
    const p = project(llmSection('busy', 'openai/gpt-4o-mini', server.openaiUrl, { max_concurrency: 4 }));
    // Six attempts (three instances, two repeats) for four slots, so some start after the cuts.
    const result = await p.run(['--configs', 'busy', '--agent', 'patch', '--instances', `${A},${B},${C}`, '--runs', '2', '-j', '4', '--run-id', 'paced']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(refused).toBeGreaterThan(0);
    const attempts = p.query('SELECT instance_id, repeat, outcome, retries FROM attempts ORDER BY instance_id, repeat');
    expect(attempts.map((a) => `${a.instance_id}/${a.repeat}`)).toEqual([`${A}/0`, `${A}/1`, `${B}/0`, `${B}/1`, `${C}/0`, `${C}/1`]);
    expect(attempts.every((a) => a.outcome === 'resolved')).toBe(true);
    expect(attempts.reduce((sum, a) => sum + a.retries, 0)).toBe(refused);
  });
});
