/**
 * Goodput under a provider rate limit: the oracle model enforces R requests/s with a token bucket
 * (burst R) and answers 429 with an integer `Retry-After` beyond it, as providers do. The `patch`
 * agent runs enough attempts to last about --seconds at R/s, with the documented retry defaults
 * and max_concurrency = -j. Reports goodput (successful requests/s) / R (target >= 0.85) and
 * checks that every planned attempt was recorded once and none failed because of the limit.
 * Grades come from a warm-up pass with no limit, so grading does not pace the measured pass.
 *   node scripts/bench-ratelimit.ts [--rate 5] [--seconds 40] [--concurrency 8] [--latency 100]
 */
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.ts';
import { Grader } from '../src/grading/index.ts';
import { chooseSandbox, planArms, runBenchmark } from '../src/runner/index.ts';
import { Store } from '../src/store/index.ts';
import { loadSuite } from '../src/tasks/index.ts';
import { startOracleModel } from '../test/helpers/oracle-model.ts';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

const rate = option('rate', 5);
const seconds = option('seconds', 40);
const concurrency = option('concurrency', 8);
const latencyMs = option('latency', 100);

// Whatever happens, the script ends by itself within two minutes.
setTimeout(() => {
  console.error('bench-ratelimit: gave up after 115 s');
  process.exit(1);
}, 115_000).unref();

/** R tokens a second, at most R saved up; a request without a token is told when the next one comes. */
class TokenBucket {
  private readonly perSecond: number;
  private tokens: number;
  private last = performance.now();
  constructor(perSecond: number) {
    this.perSecond = perSecond;
    this.tokens = perSecond;
  }
  take(): { ok: true } | { ok: false; retryAfterS: number } {
    const now = performance.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterS: Math.max(1, Math.ceil((1 - this.tokens) / this.perSecond)) };
  }
}

const dir = mkdtempSync(join(tmpdir(), 'bench-ratelimit-'));
let bucket: TokenBucket | undefined;
const answers: { at: number; ok: boolean }[] = [];
const oracle = await startOracleModel({
  latencyMs,
  usage: { input: 1000, output: 100 },
  intercept: () => {
    const verdict = bucket?.take() ?? { ok: true as const };
    answers.push({ at: performance.now(), ok: verdict.ok });
    return verdict.ok ? undefined : { kind: 'rate_limit', retryAfter: String(verdict.retryAfterS) };
  },
});

try {
  const configPath = join(dir, 'config.toml');
  // The documented retry defaults (8 retries, 15-120 s backoff); the server's Retry-After decides each wait.
  writeFileSync(configPath, [
    '[llm.limited]', 'model = "openai/gpt-4o-mini"', `base_url = "${oracle.openaiUrl}"`, 'api_key = "sk-bench-ratelimit"',
    `max_concurrency = ${concurrency}`, '',
  ].join('\n'));
  const arms = planArms(loadConfig({ path: configPath }), { configs: ['limited'], agent: 'patch' });
  const taskSet = loadSuite();
  const instances = taskSet.instances;
  const runs = Math.max(1, Math.ceil((rate * seconds) / instances.length));
  const sandbox = await chooseSandbox({ modelCode: true, warn: () => {} });
  const store = Store.open(join(dir, 'bench.db'));
  const grader = new Grader({ sandbox, cacheDir: join(dir, 'cache'), store });
  const load = loadavg()[0]!;

  await runBenchmark({ store, grader, taskSet, instances, arms, runId: 'warm-up', runs: 1, jobs: concurrency, quiet: true });
  answers.length = 0;
  bucket = new TokenBucket(rate);
  const started = performance.now();
  await runBenchmark({ store, grader, taskSet, instances, arms, runId: 'limited', runs, jobs: concurrency, quiet: true });
  const wallS = (performance.now() - started) / 1000;

  const attempts = store.attempts(['limited']);
  const planned = instances.length * runs;
  const keys = new Set(attempts.map((a) => `${a.instanceId}/${a.repeat}`));
  const ok = answers.filter((a) => a.ok);
  const refused = answers.length - ok.length;
  // From the first request to the last successful answer: the span the limit applied to.
  const spanS = (ok.at(-1)!.at + latencyMs - answers[0]!.at) / 1000;
  const outcomes: Record<string, number> = {};
  for (const attempt of attempts) outcomes[attempt.outcome] = (outcomes[attempt.outcome] ?? 0) + 1;
  const limitFailures = attempts.filter((a) => a.outcome === 'model_error' || a.outcome === 'infra_error').length;
  store.close();

  console.log(JSON.stringify({
    agent: 'patch',
    sandbox: sandbox.kind,
    cpus: cpus().length,
    load_average_at_start: Number(load.toFixed(2)),
    rate_limit_per_s: rate,
    concurrency,
    latency_ms: latencyMs,
    planned_attempts: planned,
    recorded_attempts: attempts.length,
    distinct_attempts: keys.size,
    outcomes,
    attempts_failed_by_limit: limitFailures,
    requests: answers.length,
    successful_requests: ok.length,
    refused_429: refused,
    retries_recorded: attempts.reduce((sum, a) => sum + a.retries, 0),
    span_s: Number(spanS.toFixed(2)),
    wall_s: Number(wallS.toFixed(2)),
    goodput_per_s: Number((ok.length / spanS).toFixed(3)),
    goodput_ratio: Number((ok.length / spanS / rate).toFixed(3)),
    goodput_ratio_over_wall: Number((ok.length / wallS / rate).toFixed(3)),
    // The bucket starts full: its first R requests pass at once, above the steady rate.
    goodput_ratio_excluding_burst: Number(((ok.length - rate) / spanS / rate).toFixed(3)),
    target: 0.85,
    none_lost: attempts.length === planned && keys.size === planned,
  }, null, 2));
} finally {
  await oracle.close();
  rmSync(dir, { recursive: true, force: true });
}
