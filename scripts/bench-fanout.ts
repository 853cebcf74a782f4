/**
 * Fan-out efficiency of the runner: the `patch` agent (one model call per attempt) against the
 * oracle model answering after a fixed latency L, N attempts, c in flight. Ideal wall time: N*L/c.
 *
 * Passes on one store, so later passes reuse the grades of the first:
 *   cold      the oracle at the first latency, every patch graded;
 *   gold      the gold baseline: the same workspaces, `git apply` and diff, no model call (best of --rounds);
 *   L=...     the oracle at each latency, grades reused (best of --rounds).
 * Figures per pass: wall / ideal raw; with the slot time spent grading taken out
 * ((wall - sum(grade_ms)/c) / ideal, the grading recorded per attempt in the store); and with the
 * whole model-free pipeline taken out ((wall - gold wall) / ideal). Target <= 1.10.
 *   node scripts/bench-fanout.ts [--instances 24] [--latency 300,1500] [--concurrency 8] [--runs 1] [--rounds 2]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/index.ts';
import { Grader } from '../src/grading/index.ts';
import { chooseSandbox, planArms, runBenchmark, type Arm } from '../src/runner/index.ts';
import { Store } from '../src/store/index.ts';
import { loadSuite } from '../src/tasks/index.ts';
import { startOracleModel, type OracleModel } from '../test/helpers/oracle-model.ts';

function option(name: string, fallback: string): number[] {
  const at = process.argv.indexOf(`--${name}`);
  const values = (at >= 0 ? process.argv[at + 1] ?? '' : fallback).split(',').map(Number);
  if (values.some((v) => !Number.isFinite(v) || v <= 0)) throw new Error(`--${name} needs positive numbers, comma-separated`);
  return values;
}

const [instanceCount = 24] = option('instances', '24');
const latencies = option('latency', '300,1500');
const [concurrency = 8] = option('concurrency', '8');
const [runs = 1] = option('runs', '1');
const [rounds = 2] = option('rounds', '2');

// Whatever happens, the script ends by itself within two minutes.
setTimeout(() => {
  console.error('bench-fanout: gave up after 115 s');
  process.exit(1);
}, 115_000).unref();

const load = loadavg()[0]!;
const dir = mkdtempSync(join(tmpdir(), 'bench-fanout-'));
const servers: OracleModel[] = [];
const taskSet = loadSuite();
const instances = taskSet.instances.slice(0, instanceCount);
const sandbox = await chooseSandbox({ modelCode: true, warn: () => {} });
const store = Store.open(join(dir, 'bench.db'));
const grader = new Grader({ sandbox, cacheDir: join(dir, 'cache'), store });

/** An oracle at latency L and the arm that calls it with the patch agent. */
async function oracleArm(latencyMs: number): Promise<{ oracle: OracleModel; arms: Arm[]; configPath: string }> {
  const oracle = await startOracleModel({ latencyMs, usage: { input: 1000, output: 100 } });
  servers.push(oracle);
  const configPath = join(dir, `config-${latencyMs}.toml`);
  writeFileSync(configPath, [
    '[llm.oracle]', 'model = "openai/gpt-4o-mini"', `base_url = "${oracle.openaiUrl}"`, 'api_key = "sk-bench-fanout"',
    `max_concurrency = ${concurrency}`, 'num_retries = 2', 'retry_min_wait = 0', 'retry_max_wait = 1', '',
  ].join('\n'));
  return { oracle, configPath, arms: planArms(loadConfig({ path: configPath }), { configs: ['oracle'], agent: 'patch' }) };
}

let passes = 0;
async function pass(arms: Arm[], oracle?: OracleModel) {
  const runId = `pass-${++passes}`;
  const firstRequest = oracle?.requests.length ?? 0;
  const started = performance.now();
  await runBenchmark({ store, grader, taskSet, instances, arms, runId, runs, jobs: concurrency, quiet: true });
  const wallMs = performance.now() - started;
  const attempts = store.attempts([runId]);
  const latencyMs = attempts.flatMap((a) => store.attempt(a.id)!.llmCalls.map((c) => c.latencyMs));
  const latencySum = latencyMs.reduce((sum, ms) => sum + ms, 0);
  const gradeMs = attempts.reduce((sum, a) => sum + a.gradeMs, 0);
  const agentMs = attempts.reduce((sum, a) => sum + a.agentMs, 0);
  // Requests in flight on average while the model was being asked: the fan-out the server saw.
  const requests = oracle?.requests.slice(firstRequest) ?? [];
  const spanMs = requests.length ? Math.max(...requests.map((r) => r.receivedAt)) - requests[0]!.receivedAt + latencySum / requests.length : 0;
  return {
    attempts: attempts.length,
    resolved: attempts.filter((a) => a.outcome === 'resolved').length,
    requests: requests.length,
    wallMs,
    gradeMs,
    figures: {
      wall_s: round(wallMs / 1000),
      grading_slot_s: round(gradeMs / 1000),
      mean_call_latency_ms: latencyMs.length ? round(latencySum / latencyMs.length, 1) : null,
      // Workspace, file ranking, applying the edit and the diff: agent time that is not the model's.
      mean_agent_overhead_ms: round((agentMs - latencySum) / Math.max(1, attempts.length), 1),
      mean_requests_in_flight: spanMs ? round(latencySum / spanMs, 2) : null,
    },
  };
}

function round(value: number, digits = 3): number {
  return Number(value.toFixed(digits));
}

try {
  // Environments are prepared once per repository in any real run; not part of the fan-out.
  for (const instance of instances) await grader.environment(instance);
  const first = await oracleArm(latencies[0]!);
  const cold = await pass(first.arms, first.oracle);
  const goldArms = planArms(loadConfig({ path: first.configPath }), { configs: [], agent: 'gold' });
  const golds = [];
  for (let r = 0; r < rounds; r++) golds.push(await pass(goldArms));
  const gold = golds.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
  const byLatency = [];
  for (const latencyMs of latencies) {
    const { oracle, arms } = latencyMs === latencies[0] ? first : await oracleArm(latencyMs);
    const idealMs = (instances.length * runs * latencyMs) / concurrency;
    const tries = [];
    for (let r = 0; r < rounds; r++) tries.push(await pass(arms, oracle));
    const best = tries.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
    byLatency.push({
      latency_ms: latencyMs,
      ideal_s: round(idealMs / 1000),
      ratio_raw: round(best.wallMs / idealMs),
      ratio_excluding_grading: round((best.wallMs - best.gradeMs / concurrency) / idealMs),
      ratio_excluding_pipeline: round((best.wallMs - gold.wallMs) / idealMs),
      all_resolved: tries.every((t) => t.resolved === t.attempts),
      rounds: tries.map((t) => t.figures),
    });
  }
  const coldIdealMs = (instances.length * runs * latencies[0]!) / concurrency;
  console.log(JSON.stringify({
    agent: 'patch',
    sandbox: sandbox.kind,
    cpus: cpus().length,
    load_average_at_start: round(load, 2),
    concurrency,
    instances: instances.length,
    runs,
    attempts_per_pass: instances.length * runs,
    target: 1.1,
    cold: {
      latency_ms: latencies[0],
      ratio_raw: round(cold.wallMs / coldIdealMs),
      ratio_excluding_grading: round((cold.wallMs - cold.gradeMs / concurrency) / coldIdealMs),
      resolved: cold.resolved,
      ...cold.figures,
    },
    gold_baseline: gold.figures,
    by_latency: byLatency,
  }, null, 2));
} finally {
  store.close();
  await Promise.all(servers.map((server) => server.close()));
  rmSync(dir, { recursive: true, force: true });
}
