/**
 * Fan-out efficiency of the runner: the `patch` agent (one model call per attempt) against the
 * oracle model answering after a fixed latency L, N attempts per pass, c model calls in flight
 * (the config's max_concurrency). Baseline: N·L/c, the time the model alone needs. Ratio: the
 * wall time of the pass over that baseline; 1.00 means our whole pipeline hides behind the model.
 *
 * N is every built-in instance times --runs (31 × 2 = 62 by default), so the head and tail of
 * the pipeline (the first workspaces before the first call, the last diffs after the last
 * answer) weigh as they do in a run of a real suite, not as in a handful of attempts.
 * Attempts in flight (-j) are --jobs (default 2c): workspaces, file ranking, applying the answer
 * and diffing of some attempts overlap the model calls of others; the provider never sees more
 * than c calls at once.
 *
 * Passes on one store, in this order:
 *   cold       the first L and c, every patch graded (grading is the bottleneck here; the figure
 *              until the last answer leaves the grading tail out, never negative);
 *   pipeline   the `gold` baseline: the same workspaces, apply and diff, no model call;
 *   L × c      --repeats passes each, grades reused; min / median / max of each figure.
 * The oracle runs in a process of its own (a provider is remote), so the main-process CPU per
 * attempt (process.cpuUsage over the pass / N) is the harness's alone.
 *
 * --trace prints, per pass, where the time beyond the model's went: the head (the pass's start to
 * the first request), the client's turnaround (an answer leaving the oracle to the next request
 * arriving there, when every slot is busy), the tail (the last answer to the pass's end), and the
 * event loop's delay.
 *
 *   node scripts/bench-fanout.ts [--latency 100,300,1000] [--concurrency 4,8,16] [--repeats 3]
 *                                [--runs 2] [--instances 31] [--jobs N] [--json] [--trace]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface, type Interface } from 'node:readline';
import { loadConfig } from '../src/config/index.ts';
import { Grader } from '../src/grading/index.ts';
import { chooseSandbox, planArms, runBenchmark, type Arm } from '../src/runner/index.ts';
import { Store } from '../src/store/index.ts';
import { round, spread, spreadText } from './_spread.ts';
import { loadSuite } from '../src/tasks/index.ts';

function option(name: string, fallback: string): number[] {
  const at = process.argv.indexOf(`--${name}`);
  const values = (at >= 0 ? process.argv[at + 1] ?? '' : fallback).split(',').map(Number);
  if (values.some((v) => !Number.isInteger(v) || v <= 0)) throw new Error(`--${name} needs positive whole numbers, comma-separated`);
  return values;
}

const taskSet = loadSuite();
const [instanceCount = taskSet.instances.length] = option('instances', String(taskSet.instances.length));
const latencies = option('latency', '300');
const concurrencies = option('concurrency', '8');
const [runs = 2] = option('runs', '2');
const [repeats = 3] = option('repeats', '3');
const jobsOption = process.argv.includes('--jobs') ? option('jobs', '1')[0] : undefined;
const asJson = process.argv.includes('--json');
const tracing = process.argv.includes('--trace');
const jobsFor = (c: number) => jobsOption ?? 2 * c;

const instances = taskSet.instances.slice(0, instanceCount);
const attemptsPerPass = instances.length * runs;
// Whatever happens, the script ends by itself: the model's own time for every pass, plus room.
const modelSeconds = latencies.reduce((sum, l) => sum + concurrencies.reduce((s, c) => s + (repeats * attemptsPerPass * l) / c / 1000, 0), 0);
setTimeout(() => {
  console.error('bench-fanout: gave up: the passes took far longer than the model needs');
  process.exit(1);
}, (300 + 6 * modelSeconds) * 1000).unref();

const load = loadavg()[0]!;
const dir = mkdtempSync(join(tmpdir(), 'bench-fanout-'));
const sandbox = await chooseSandbox({ modelCode: true, warn: () => {} });
const store = Store.open(join(dir, 'bench.db'));
const grader = new Grader({ sandbox, cacheDir: join(dir, 'cache'), store });

/** When each request arrived at the oracle, and when its answer left (null while it is unanswered). */
type Exchanges = { receivedAt: number[]; answeredAt: (number | null)[] };
type Oracle = { url: string; requests(): Promise<Exchanges>; close(): void };
const oracles: Oracle[] = [];

/** The oracle in its own process (scripts/_oracle-process.ts), answering after latencyMs. */
async function startOracle(latencyMs: number): Promise<Oracle> {
  const child = spawn(process.execPath, [join(import.meta.dirname, '_oracle-process.ts'), String(latencyMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: Interface = createInterface({ input: child.stdout });
  const waiting: { resolve: (line: string) => void; reject: (error: Error) => void }[] = [];
  lines.on('line', (line) => waiting.shift()?.resolve(line));
  child.once('exit', () => {
    for (const waiter of waiting.splice(0)) waiter.reject(new Error('the oracle process exited'));
  });
  const next = () => new Promise<string>((resolve, reject) => waiting.push({ resolve, reject }));
  const { url } = JSON.parse(await next()) as { url: string };
  const oracle: Oracle = {
    url,
    requests: async () => {
      const answer = next();
      child.stdin.write('requests\n');
      return JSON.parse(await answer) as Exchanges;
    },
    close: () => child.stdin.end(),
  };
  oracles.push(oracle);
  return oracle;
}

/** The patch agent against the oracle: max_concurrency c is the provider's slots. */
function oracleArms(oracle: Oracle, latencyMs: number, concurrency: number): Arm[] {
  const configPath = join(dir, `config-${latencyMs}-${concurrency}.toml`);
  writeFileSync(configPath, [
    '[llm.oracle]', 'model = "openai/gpt-4o-mini"', `base_url = "${oracle.url}"`, 'api_key = "sk-bench-fanout"',
    `max_concurrency = ${concurrency}`, 'num_retries = 2', 'retry_min_wait = 0', 'retry_max_wait = 1', '',
  ].join('\n'));
  return planArms(loadConfig({ path: configPath }), { configs: ['oracle'], agent: 'patch' });
}

let passes = 0;
async function pass(arms: Arm[], jobs: number, oracle?: Oracle, concurrency = 0) {
  const runId = `pass-${++passes}`;
  const firstRequest = oracle ? (await oracle.requests()).receivedAt.length : 0;
  // A millisecond timer of its own: on only when tracing, so it costs the measured passes nothing.
  const lag = monitorEventLoopDelay({ resolution: 1 });
  if (tracing) lag.enable();
  const cpu = process.cpuUsage();
  const startedAt = Date.now();
  const started = performance.now();
  await runBenchmark({ store, grader, taskSet, instances, arms, runId, runs, jobs, quiet: true });
  const wallMs = performance.now() - started;
  const used = process.cpuUsage(cpu);
  lag.disable();
  const attempts = store.attempts([runId]);
  const latencyMs = attempts.flatMap((a) => store.attempt(a.id)!.llmCalls.map((c) => c.latencyMs));
  const latencySum = latencyMs.reduce((sum, ms) => sum + ms, 0);
  const agentMs = attempts.reduce((sum, a) => sum + a.agentMs, 0);
  // The last episode's end: what the pass took before the grading that followed it.
  const lastAnswerMs = Math.max(...attempts.map((a) => Date.parse(a.startedAt) + a.agentMs)) - startedAt;
  // Requests in flight on average while the model was being asked: the fan-out the server saw.
  const exchanges = oracle ? await oracle.requests() : { receivedAt: [], answeredAt: [] };
  const requests = exchanges.receivedAt.slice(firstRequest);
  if (tracing && requests.length > concurrency) {
    const arrivals = [...requests].sort((a, b) => a - b);
    const answers = exchanges.answeredAt.slice(firstRequest).filter((t): t is number => t !== null).sort((a, b) => a - b);
    // With every slot busy, the k-th request after the first c can go only once the k-th answer is out.
    const turnaround = arrivals.slice(concurrency).map((t, k) => t - answers[k]!).sort((a, b) => a - b);
    const at = (q: number) => turnaround[Math.min(turnaround.length - 1, Math.floor(q * turnaround.length))];
    console.error(`  trace ${runId}: head ${arrivals[0]! - startedAt} ms; turnaround p50 ${at(0.5)} / p90 ${at(0.9)} / max ${turnaround.at(-1)} ms; ` +
      `tail ${Math.round(startedAt + wallMs - answers.at(-1)!)} ms; event loop delay p99 ${(lag.percentile(99) / 1e6).toFixed(1)} / max ${(lag.max / 1e6).toFixed(1)} ms`);
  }
  const spanMs = requests.length ? Math.max(...requests) - requests[0]! + latencySum / requests.length : 0;
  return {
    attempts: attempts.length,
    resolved: attempts.filter((a) => a.outcome === 'resolved').length,
    wallMs,
    lastAnswerMs,
    cpuMsPerAttempt: (used.user + used.system) / 1000 / Math.max(1, attempts.length),
    meanCallMs: latencyMs.length ? latencySum / latencyMs.length : null,
    // Workspace, file ranking, applying the edit, the diff: agent time that is not the model's.
    agentOverheadMs: (agentMs - latencySum) / Math.max(1, attempts.length),
    inFlight: spanMs ? latencySum / spanMs : null,
  };
}

type Pass = Awaited<ReturnType<typeof pass>>;

const text = spreadText;

function summary(tries: Pass[], idealMs: number) {
  return {
    ratio: spread(tries.map((t) => t.wallMs / idealMs)),
    wall_s: spread(tries.map((t) => t.wallMs / 1000)),
    main_cpu_ms_per_attempt: spread(tries.map((t) => t.cpuMsPerAttempt), 1),
    agent_overhead_ms: spread(tries.map((t) => t.agentOverheadMs), 1),
    mean_call_latency_ms: spread(tries.map((t) => t.meanCallMs ?? 0), 1),
    requests_in_flight: spread(tries.map((t) => t.inFlight ?? 0), 2),
    all_resolved: tries.every((t) => t.resolved === t.attempts && t.attempts === attemptsPerPass),
  };
}

const say = (line: string) => {
  if (!asJson) console.log(line);
};

try {
  // Environments are prepared once per repository in any real run; not part of the fan-out.
  for (const instance of instances) await grader.environment(instance);
  say(`bench-fanout: patch agent, ${sandbox.kind} sandbox, ${cpus().length} CPUs, load average ${round(load, 2)} at start`);
  say(`N = ${attemptsPerPass} attempts per pass (${instances.length} instances × ${runs} runs), ${repeats} repeats per point; ratio = wall / (N·L/c)`);

  const firstL = latencies[0]!;
  const firstC = concurrencies[0]!;
  const firstOracle = await startOracle(firstL);
  const coldIdealMs = (attemptsPerPass * firstL) / firstC;
  const cold = await pass(oracleArms(firstOracle, firstL, firstC), jobsFor(firstC), firstOracle, firstC);
  const coldFigures = {
    latency_ms: firstL, concurrency: firstC, jobs: jobsFor(firstC), baseline_s: round(coldIdealMs / 1000),
    ratio: round(cold.wallMs / coldIdealMs), ratio_until_last_answer: round(cold.lastAnswerMs / coldIdealMs),
    grading_tail_s: round((cold.wallMs - cold.lastAnswerMs) / 1000), wall_s: round(cold.wallMs / 1000),
    resolved: cold.resolved, attempts: cold.attempts,
  };
  say(`cold pass (every patch graded) L=${firstL} ms c=${firstC}: wall ${coldFigures.wall_s} s, ratio ${coldFigures.ratio}, ` +
    `until the last answer ${coldFigures.ratio_until_last_answer} (then ${coldFigures.grading_tail_s} s of grading), ${cold.resolved}/${cold.attempts} resolved`);

  const goldArms = planArms(loadConfig({ path: join(dir, `config-${firstL}-${firstC}.toml`) }), { configs: [], agent: 'gold' });
  const golds: Pass[] = [];
  for (let r = 0; r < repeats; r++) golds.push(await pass(goldArms, jobsFor(firstC)));
  const pipeline = {
    jobs: jobsFor(firstC),
    wall_s: spread(golds.map((g) => g.wallMs / 1000)),
    per_attempt_ms: spread(golds.map((g) => g.wallMs / g.attempts), 1),
    main_cpu_ms_per_attempt: spread(golds.map((g) => g.cpuMsPerAttempt), 1),
  };
  say(`pipeline without a model (gold baseline, -j ${pipeline.jobs}): wall ${text(pipeline.wall_s)} s, ${text(pipeline.per_attempt_ms)} ms per attempt, main CPU ${text(pipeline.main_cpu_ms_per_attempt)} ms per attempt`);

  const points = [];
  for (const latencyMs of latencies) {
    const oracle = latencyMs === firstL ? firstOracle : await startOracle(latencyMs);
    for (const concurrency of concurrencies) {
      const arms = oracleArms(oracle, latencyMs, concurrency);
      const idealMs = (attemptsPerPass * latencyMs) / concurrency;
      const tries: Pass[] = [];
      for (let r = 0; r < repeats; r++) tries.push(await pass(arms, jobsFor(concurrency), oracle, concurrency));
      const point = { latency_ms: latencyMs, concurrency, jobs: jobsFor(concurrency), baseline_s: round(idealMs / 1000), ...summary(tries, idealMs) };
      points.push(point);
      say(`L=${latencyMs} ms c=${concurrency} -j ${point.jobs}: baseline N·L/c ${point.baseline_s} s; wall ${text(point.wall_s)} s; ` +
        `ratio ${text(point.ratio)} (min / median / max); main CPU ${text(point.main_cpu_ms_per_attempt)} ms per attempt; ` +
        `calls in flight ${text(point.requests_in_flight)}${point.all_resolved ? '' : '; NOT all resolved'}`);
    }
  }
  say('target: ratio <= 1.10 at L=300 ms, c=8 (1.05 hoped for); main CPU <= 15 ms per attempt');
  // The run's whole life in this process (the oracle has its own): what `bench run` holds at its peak.
  const peakRssMb = round(process.resourceUsage().maxRSS / 1024, 1);
  say(`peak resident memory of the run's process: ${peakRssMb} MB`);
  if (asJson) {
    console.log(JSON.stringify({
      agent: 'patch', sandbox: sandbox.kind, cpus: cpus().length, load_average_at_start: round(load, 2), peak_rss_mb: peakRssMb,
      instances: instances.length, runs, attempts_per_pass: attemptsPerPass, repeats, target: 1.1,
      cold: coldFigures, pipeline, points,
    }, null, 2));
  }
} finally {
  store.close();
  for (const oracle of oracles) oracle.close();
  rmSync(dir, { recursive: true, force: true });
}
