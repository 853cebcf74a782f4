/**
 * Distributed mode against the same attempts run locally, on a real redis-server started here.
 * The model is the oracle with a fixed latency per call (300 ms by default) and a few extra
 * cheap turns per episode, so the model, not the CPU, bounds an attempt.
 *   - throughput: attempts per second with 2 `bench worker` processes over 1 (each -j J); target >= 1.8
 *   - coordinator overhead per attempt, one attempt at a time (-j 1): the wait from the previous
 *     attempt's end to this one's start on the worker (the queue's dispatch), plus the time from its
 *     end to its row in the store (the results queue and the write), median, distributed minus
 *     local; target < 5 ms.
 * Every figure is min / median / max over --repeats.
 *   node scripts/bench-distributed.ts [--attempts 8] [--latency 300] [--steps 4] [--jobs 2] [--repeats 3]
 */
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { loadConfig } from '../src/config/index.ts';
import { Grader } from '../src/grading/index.ts';
import { chooseSandbox, parseQueueUrl, planArms, queueScheduler, runBenchmark } from '../src/runner/index.ts';
import { Store, type AttemptRecord } from '../src/store/index.ts';
import { loadSuite } from '../src/tasks/index.ts';
import { BENCH_BIN } from '../test/helpers/cli.ts';
import { startOracleModel } from '../test/helpers/oracle-model.ts';
import { startRedis } from '../test/helpers/redis.ts';
import { median, round as roundTo, spread as spreadOf } from './_spread.ts';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

const attemptsWanted = option('attempts', 8);
const latencyMs = option('latency', 300);
const steps = option('steps', 4);
const jobs = option('jobs', 2);
const repeats = option('repeats', 3);

setTimeout(() => {
  console.error('bench-distributed: gave up after 30 minutes');
  process.exit(1);
}, 30 * 60_000).unref();

const dir = mkdtempSync(join(tmpdir(), 'bench-distributed-'));
const load = loadavg()[0]!;
const redis = await startRedis();
const address = parseQueueUrl(redis.url);
const oracle = await startOracleModel({
  latencyMs,
  // Turns 1..steps are cheap commands; turn 0 applies the gold patch and the last one submits.
  intercept: (request, turn) => {
    if (turn.role !== 'bash' || turn.turn < 1 || turn.turn > steps) return undefined;
    // As a tool call when the request offers the bash tool, else as a ```bash block.
    if (Array.isArray(request.body?.tools) && request.body.tools.length) return { kind: 'success', text: '', toolCalls: [{ name: 'bash', arguments: { command: 'true' } }] };
    return { kind: 'success', text: 'Checking.\n\n```bash\ntrue\n```\n' };
  },
});
const configPath = join(dir, 'config.toml');
writeFileSync(configPath, ['[llm.oracle]', 'model = "openai/gpt-4o-mini"', `base_url = "${oracle.openaiUrl}"`, 'api_key = "sk-bench-distributed"', 'max_concurrency = 64', ''].join('\n'));
const arms = planArms(loadConfig({ path: configPath }), { configs: ['oracle'], agent: 'bash' });
const taskSet = loadSuite();
const instances = taskSet.instances.filter((i) => i.language !== 'python').slice(0, attemptsWanted);
const cacheDir = join(dir, 'cache');
const sandbox = await chooseSandbox({ modelCode: true, warn: (m) => console.error(`warning: ${m}`) });
// No grade cache: every attempt is graded, as the first run of a suite is.
const grader = new Grader({ sandbox, cacheDir });
for (const instance of instances) await grader.environment(instance);
const workerEnv = { ...process.env, BENCH_CACHE_DIR: cacheDir, BENCH_RESULTS_DIR: join(dir, 'results'), CI: '1', NO_COLOR: '1' };

async function startWorkers(count: number, perWorker: number): Promise<ResultPromise[]> {
  const started = Array.from({ length: count }, () => {
    const child = execa(process.execPath, [BENCH_BIN, 'worker', '--queue', redis.url, '-j', String(perWorker), '--config', configPath], { env: workerEnv, reject: false, forceKillAfterDelay: false, buffer: false });
    return child;
  });
  // Timed from when every worker listens, so process start-up is not counted.
  await Promise.all(started.map((child) => new Promise<void>((resolve) => {
    child.stderr!.on('data', (chunk: Buffer) => { if (chunk.toString().includes('waiting for runs')) resolve(); });
  })));
  return started;
}

async function stopWorkers(workers: ResultPromise[]): Promise<void> {
  for (const worker of workers) worker.kill('SIGTERM');
  await Promise.all(workers);
}

type Pass = { wallMs: number; overheadMs: number[]; resolved: number; attempts: number };

/** One run of the attempts; `stored` times each record's arrival in the store. */
async function pass(runId: string, options: { workers?: number; perWorker: number }): Promise<Pass> {
  const store = Store.open(join(dir, `${runId}.db`));
  const stored = new Map<string, number>();
  const record = store.recordAttempt.bind(store);
  store.recordAttempt = (attempt: AttemptRecord) => {
    stored.set(`${attempt.instanceId}/${attempt.repeat}`, Date.now());
    return record(attempt);
  };
  const workers = options.workers ? await startWorkers(options.workers, options.perWorker) : [];
  const started = performance.now();
  try {
    await runBenchmark({
      store, grader, taskSet, instances, arms, runId, runs: 1, jobs: options.perWorker, quiet: true,
      scheduler: options.workers ? queueScheduler({ address, runId, arms, taskSet, log: (m) => console.error(m) }) : undefined,
    });
  } finally {
    await stopWorkers(workers);
  }
  const wallMs = performance.now() - started;
  const rows = store.attempts([runId]).sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  const overheadMs: number[] = [];
  // Run one at a time: the wait before an attempt starts after the last one ended, and its trip to the store.
  for (let i = 1; i < rows.length; i++) {
    // Locally the next episode starts while the last one is graded (a negative gap): no dispatch wait.
    const gap = Math.max(0, Date.parse(rows[i]!.startedAt) - Date.parse(rows[i - 1]!.finishedAt));
    const toStore = stored.get(`${rows[i]!.instanceId}/${rows[i]!.repeat}`)! - Date.parse(rows[i]!.finishedAt);
    overheadMs.push(gap + toStore);
  }
  const resolved = rows.filter((r) => r.outcome === 'resolved').length;
  if (resolved < rows.length) console.error(`${runId}: ${rows.filter((r) => r.outcome !== 'resolved').map((r) => `${r.instanceId} ${r.outcome} ${r.exitReason ?? ''} ${r.error ?? ''}`.slice(0, 300)).join('; ')}`);
  store.close();
  return { wallMs, overheadMs, resolved, attempts: rows.length };
}

const round = (value: number) => roundTo(value, 2);
const spread = (values: number[]) => spreadOf(values, 2);

try {
  const speedups: number[] = [];
  const overheads: number[] = [];
  const rounds = [];
  for (let r = 0; r < repeats; r++) {
    const one = await pass(`one-${r}`, { workers: 1, perWorker: jobs });
    const two = await pass(`two-${r}`, { workers: 2, perWorker: jobs });
    const localSerial = await pass(`local-serial-${r}`, { perWorker: 1 });
    const queueSerial = await pass(`queue-serial-${r}`, { workers: 1, perWorker: 1 });
    speedups.push(one.wallMs / two.wallMs);
    const perAttempt = median(queueSerial.overheadMs) - median(localSerial.overheadMs);
    overheads.push(perAttempt);
    rounds.push({
      one_worker_s: round(one.wallMs / 1000), two_workers_s: round(two.wallMs / 1000), speedup: round(one.wallMs / two.wallMs),
      serial_overhead_median_ms: { local: median(localSerial.overheadMs), queue: median(queueSerial.overheadMs) },
      resolved: [one, two, localSerial, queueSerial].map((p) => `${p.resolved}/${p.attempts}`),
    });
    console.error(JSON.stringify(rounds.at(-1)));
  }
  console.log(JSON.stringify({
    sandbox: sandbox.kind, cpus: cpus().length, load_average_at_start: round(load), model_latency_ms: latencyMs,
    calls_per_attempt: steps + 2, attempts: instances.length, jobs_per_worker: jobs, repeats,
    throughput_two_over_one_worker: { ...spread(speedups), target: '>= 1.8' },
    coordinator_overhead_ms_per_attempt: { ...spread(overheads), target: '< 5' },
    rounds,
  }, null, 2));
} finally {
  await oracle.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
