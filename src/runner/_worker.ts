import { hostname } from 'node:os';
import type { Job, Worker } from 'bullmq';
import pLimit from 'p-limit';
import type { BenchConfig } from '../config/index.ts';
import type { Grader } from '../grading/index.ts';
import { checkCredentials } from '../llm/index.ts';
import type { TaskSet } from '../tasks/index.ts';
import { planArms, type Arm } from './_arms.ts';
import { gradingsInFlight } from './_scheduler.ts';
import { executeAttempt, type AttemptContext } from './_execute.ts';
import type { AttemptJob } from './_job.ts';
import { PREFIX, attemptsQueueName, connectionOf, eventsChannel, queueLibraries, readManifests, redisClient, refusalsKey, resultsQueueName, type QueueAddress, type RunManifest } from './_queue.ts';
import type { TryEvent } from './_scheduler.ts';
import { redact } from '../config/index.ts';
import type { Redis } from 'ioredis';
import { RedisPacing } from './_redis-pacing.ts';
import { armHash } from './_run-record.ts';

export type WorkerOptions = {
  address: QueueAddress;
  /** Attempts at once, per run served. */
  jobs: number;
  config: BenchConfig;
  /** This machine's copy of the run's suite (by the run's suite name unless the worker named one). */
  taskSet: (manifest: RunManifest) => Promise<TaskSet>;
  grader: Grader;
  /** Serve only this run (default: every running run). */
  runId?: string;
  /** Aborted on SIGTERM: take no new job, finish the ones in flight. */
  signal: AbortSignal;
  log: (message: string) => void;
  env?: NodeJS.ProcessEnv;
  /** How long a job stays locked without renewal before another worker takes it over (BullMQ's stalled-job recovery). */
  lockMs?: number;
};

export type WorkerSummary = { served: string[]; refused: Record<string, string>; attempts: number };

/**
 * `bench worker`: serves every running run it can check, with its own config, keys, suite and
 * sandbox. A run whose suite or configs hash differently here is refused, never mixed in.
 */
export async function runWorker(options: WorkerOptions): Promise<WorkerSummary> {
  const name = `${hostname()}-${process.pid}`;
  const libraries = await queueLibraries();
  const redis = await redisClient(options.address);
  redis.on('error', () => {});
  const pacing = new RedisPacing(redis);
  const workers = new Map<string, Worker>();
  const summary: WorkerSummary = { served: [], refused: {}, attempts: 0 };
  const lockMs = options.lockMs ?? 30_000;
  let reportedWait = false;

  // A worker told to serve one run has nothing left to do once it refused that run.
  while (!options.signal.aborted && !(options.runId && summary.refused[options.runId])) {
    let manifests: RunManifest[] = [];
    try {
      manifests = (await readManifests(redis)).filter((m) => m.status === 'running' && (!options.runId || m.runId === options.runId));
      reportedWait = false;
      // A run that finished or was interrupted is let go; it is served again if it resumes.
      for (const [runId, worker] of workers) {
        if (manifests.some((m) => m.runId === runId)) continue;
        workers.delete(runId);
        await worker.close();
      }
    } catch {
      if (!reportedWait) options.log(`Redis at ${options.address.shown} is unreachable; waiting for it.`);
      reportedWait = true;
    }
    for (const manifest of manifests) {
      if (workers.has(manifest.runId) || summary.refused[manifest.runId]) continue;
      const checked = await checkRun(manifest, options, pacing, redis);
      if ('problem' in checked) {
        summary.refused[manifest.runId] = checked.problem;
        options.log(`refusing run ${manifest.runId}: ${checked.problem}`);
        await redis.hset(refusalsKey(manifest.runId), name, checked.problem).catch(() => {});
        continue;
      }
      workers.set(manifest.runId, serve(libraries, manifest, checked.context, options, lockMs, name, () => summary.attempts++));
      summary.served.push(manifest.runId);
      options.log(`serving run ${manifest.runId} (${Object.keys(manifest.configs).join(', ')}) with ${options.jobs} at once`);
    }
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, 1000);
      options.signal.addEventListener('abort', () => { clearTimeout(timer); resolve(undefined); }, { once: true });
    });
  }
  options.log(`stopping: finishing the ${[...workers.values()].length ? 'attempts in flight' : 'last checks'}`);
  // BullMQ's close waits for the jobs in flight, whose locks it keeps renewing until they end.
  await Promise.all([...workers.values()].map((worker) => worker.close()));
  redis.disconnect();
  return summary;
}

function serve({ Queue, Worker }: Awaited<ReturnType<typeof queueLibraries>>, manifest: RunManifest, context: AttemptContext, options: WorkerOptions, lockMs: number, name: string, counted: () => void): Worker {
  const connection = connectionOf(options.address);
  const results = new Queue(resultsQueueName(manifest.runId), { connection, prefix: PREFIX });
  results.on('error', () => {});
  const grading = pLimit(gradingsInFlight(context.grader, options.jobs));
  const worker = new Worker<AttemptJob>(attemptsQueueName(manifest.runId), async (job: Job<AttemptJob>) => {
    const attempt = job.data;
    const record = await executeAttempt(attempt, context, { episode: (work) => work(), grade: (work) => grading(work) });
    if (!record) throw new Error('attempt not started');
    await results.add('record', { record }, { removeOnComplete: true, removeOnFail: 1000, attempts: 5, backoff: { type: 'fixed', delay: 1000 } });
    counted();
    options.log(`${attempt.instanceId} ${attempt.configName} #${attempt.repeat}: ${record.outcome} (${(record.durationMs / 1000).toFixed(1)} s)`);
    return { outcome: record.outcome };
  }, {
    connection, prefix: PREFIX, concurrency: options.jobs, name,
    lockDuration: lockMs, stalledInterval: lockMs, maxStalledCount: 5, drainDelay: 1,
  });
  worker.on('error', () => {});
  worker.on('closed', () => void results.close());
  return worker;
}

/** The worker's own context for a run, or the reason it must not take part. */
async function checkRun(manifest: RunManifest, options: WorkerOptions, pacing: RedisPacing, redis: Redis): Promise<{ context: AttemptContext } | { problem: string }> {
  let taskSet: TaskSet;
  try {
    taskSet = await options.taskSet(manifest);
  } catch (error) {
    return { problem: `its suite ${manifest.suite.name} cannot be loaded here (${(error as Error).message}). Give this worker the same suite (--suite or --dataset).` };
  }
  if (taskSet.hash !== manifest.suite.hash) {
    return { problem: `suite ${manifest.suite.name} has content hash ${taskSet.hash.slice(0, 12)} here, but the run was made on ${manifest.suite.hash.slice(0, 12)}. Check out the same version of the suite on this machine (bench tasks list prints the hash), or start the worker with the same --suite/--dataset as the run.` };
  }
  const arms = new Map<string, Arm>();
  for (const [configName, hash] of Object.entries(manifest.configs)) {
    let arm: Arm | undefined;
    try {
      arm = resolveArm(options.config, configName, manifest.agent);
    } catch (error) {
      return { problem: `config \`${configName}\` does not resolve here: ${(error as Error).message}` };
    }
    if (!arm) return { problem: `this worker's config has no \`${configName}\` for agent ${manifest.agent}. Add [llm.${configName}] to this machine's config.toml with the same settings as the coordinator's.` };
    if (armHash(arm) !== hash) {
      return { problem: `config \`${configName}\` (agent ${manifest.agent}) resolves to other settings here (content hash ${armHash(arm).slice(0, 12)}, the run's is ${hash.slice(0, 12)}). Make this machine's config.toml and LLM_* variables give the same values (compare \`bench configs --configs ${configName}\` on both machines); only api_key may differ.` };
    }
    try {
      for (const llm of [arm.llm, arm.explorer]) if (llm) checkCredentials(llm, options.env);
    } catch (error) {
      return { problem: (error as Error).message };
    }
    arms.set(configName, arm);
  }
  return {
    context: {
      instances: new Map(taskSet.instances.map((i) => [i.instance_id, i])), arms, grader: options.grader,
      pacing, env: options.env, infraRetries: manifest.infraRetries,
      onTry: retryReporter(manifest.runId, arms, redis),
    },
  };
}

/**
 * Tells the coordinator when a config's calls start retrying here and when they get through again
 * (not every try: a worker makes many), over the run's pub/sub channel, with the keys taken out.
 */
function retryReporter(runId: string, arms: Map<string, Arm>, redis: Redis): AttemptContext['onTry'] {
  const secrets = [...arms.values()].flatMap((arm) => [arm.llm?.settings.api_key, arm.explorer?.settings.api_key]).filter((s): s is string => Boolean(s));
  const retrying = new Set<string>();
  return (config, record, retry) => {
    let event: TryEvent | undefined;
    if (retry && record.waitMs !== undefined && !retrying.has(config)) {
      retrying.add(config);
      event = { config, ok: false, message: record.message && redact(record.message, secrets), retry: { ...retry, waitMs: record.waitMs } };
    } else if (record.status === 'ok' && retrying.delete(config)) {
      event = { config, ok: true };
    }
    if (event) redis.publish(eventsChannel(runId), JSON.stringify(event)).catch(() => {});
  };
}

/** The arm a config name stands for with the run's agent, as `planArms` resolves it on the coordinator. */
function resolveArm(config: BenchConfig, configName: string, agent: string): Arm | undefined {
  const baseline = (configName === 'gold' || configName === 'empty')
    ? [...planArms(config, { configs: [], agent }), ...planArms(config, { configs: [] })].find((arm) => arm.name === configName && !arm.llm)
    : undefined;
  if (baseline) return baseline;
  // An agent whose sections fix their configs (explore-then-write's `explorer+writer` column among them) takes no --configs.
  const own = ownArms(config, agent).find((arm) => arm.name === configName);
  return own ?? planArms(config, { configs: [configName], agent }).find((arm) => arm.name === configName);
}

function ownArms(config: BenchConfig, agent: string): Arm[] {
  try {
    return planArms(config, { configs: [], agent });
  } catch {
    return [];
  }
}
