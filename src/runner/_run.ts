import type { Grader } from '../grading/index.ts';
import { LlmError, type Completion, type ResponseCache } from '../llm/index.ts';
import type { AttemptRecord, Store } from '../store/index.ts';
import type { Instance, TaskSet } from '../tasks/index.ts';
import type { Arm } from './_arms.ts';
import { CostBudget } from './_budget.ts';
import { ConfigBreaker, DEFAULT_FAIL_FAST } from './_fail-fast.ts';
import { DEFAULT_INFRA_RETRIES } from './_infra-retry.ts';
import { jobKey, missingJobs } from './_job.ts';
import { LocalPacing, type Pacing } from './_pacing.ts';
import { Progress } from './_progress.ts';
import { startRun } from './_run-record.ts';
import { LocalScheduler, type Scheduler } from './_scheduler.ts';

export type RunOptions = {
  store: Store;
  grader: Grader;
  taskSet: TaskSet;
  instances: Instance[];
  arms: Arm[];
  runId: string;
  runs: number;
  jobs: number;
  maxCost?: number;
  infraRetries?: number;
  /** Identical provider errors in a row that stop a config's scheduling (default 5; 0 never). */
  failFast?: number;
  /** Responses for `--cache` (recorded and reused) or `--replay` (only recorded ones). */
  responseCache?: ResponseCache;
  signal?: AbortSignal;
  quiet?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Shared by configs on one provider account; in this process by default. */
  pacing?: Pacing;
  /** Where attempts run; in this process by default. */
  scheduler?: Scheduler;
  /** Recorded with the run, so a resume can show how it was started. */
  commandLine?: string[];
};

export type RunResult = {
  runId: string; attempted: number; skipped: number; stoppedByCost: boolean; interrupted: boolean;
  /** Configs that got no new attempt after failing the same way again and again. */
  stoppedConfigs: { config: string; reason: string }[];
};

/**
 * The coordinator: plans the attempts the store does not hold yet, hands them to the scheduler,
 * and from the records it receives alone writes the store (one transaction per attempt, unique
 * on run, instance, config and repeat), counts spending toward --max-cost and draws progress.
 */
export async function runBenchmark(options: RunOptions): Promise<RunResult> {
  const { store, runId } = options;
  startRun({ ...options, sandbox: options.grader.sandbox.kind });
  const done = store.completedKeys(runId);
  const jobs = missingJobs(runId, options.instances, options.arms, options.runs, done);
  const progress = new Progress(jobs.length, { quiet: options.quiet });
  const scheduler = options.scheduler ?? new LocalScheduler({
    jobs: options.jobs,
    context: {
      instances: new Map(options.instances.map((i) => [i.instance_id, i])), arms: new Map(options.arms.map((arm) => [arm.name, arm])),
      grader: options.grader, pacing: options.pacing ?? new LocalPacing(), responseCache: options.responseCache, env: options.env,
      infraRetries: options.infraRetries ?? DEFAULT_INFRA_RETRIES, signal: options.signal,
      onTry: (config, record, retry) => progress.tried(config, record.status === 'ok', record.message, retry && record.waitMs !== undefined ? { ...retry, waitMs: record.waitMs } : undefined),
    },
  });
  // Reserves each attempt's expected cost before it starts, and settles it as soon as its episode ends.
  const budget = new CostBudget(options.maxCost, store.attempts([runId]));
  const stored = new Set<string>();
  const breaker = new ConfigBreaker(options.failFast ?? DEFAULT_FAIL_FAST);
  let stoppedByCost = false;
  let attempted = 0;

  let started = 0;
  const onAbort = () => {
    const inFlight = Math.max(0, started - attempted);
    progress.note(`Stopping: no new attempt starts and retry waits end now; ${inFlight} attempt${inFlight === 1 ? '' : 's'} in flight: those with paid model calls finish and are graded (Ctrl-C again abandons them).`);
  };
  options.signal?.addEventListener('abort', onAbort, { once: true });

  await scheduler.run(jobs, {
    mayStart: async (job) => {
      const stopped = () => Boolean(options.signal?.aborted) || Boolean(job && breaker.stopped(job.configName));
      if (stopped()) return false;
      // Asked without a job, by a queue that hands its jobs out unpaced: only a stop can say no.
      if (!job) return true;
      if (!(await budget.reserve(job, options.signal))) {
        if (budget.refused) stoppedByCost = true;
        return false;
      }
      if (stopped()) {
        budget.release(job);
        return false;
      }
      started++;
      return true;
    },
    episodeEnded: (job, usd) => {
      if (!stored.has(jobKey(job))) budget.episodeEnded(job, usd);
    },
    recorded: (record: AttemptRecord) => {
      const key = jobKey(record);
      // A redelivered attempt whose record is already stored is dropped: each attempt is stored once.
      if (stored.has(key) || done.has(key) || !store.recordAttempt(record)) return;
      stored.add(key);
      budget.recorded(record, record.costUsd);
      attempted++;
      progress.record(record.configName, record.outcome, record.costUnknown ? null : record.costUsd);
      const tripped = breaker.record(record);
      if (tripped) progress.note(`${record.configName}: no more attempts for this config after ${tripped}. The other configs go on.`);
    },
    fleet: (status) => progress.fleet(status),
    paced: options.maxCost !== undefined,
    dropped: (job) => budget.release(job),
    tried: (event) => progress.tried(event.config, event.ok, event.message, event.retry),
    configStopped: (configName) => breaker.stopped(configName),
  });
  options.signal?.removeEventListener('abort', onAbort);
  progress.finish();
  const interrupted = Boolean(options.signal?.aborted);
  store.updateRunStatus(runId, interrupted ? 'interrupted' : 'finished');
  return { runId, attempted, skipped: done.size, stoppedByCost, interrupted, stoppedConfigs: breaker.stoppedConfigs };
}

/** `--replay RUN`: answers only from RUN's recorded responses; anything else is an error, never a network call. */
export function replayCache(store: Store, runId: string): ResponseCache {
  return {
    get(key) {
      const recorded = store.recordedResponse(runId, key) as Completion | undefined;
      if (!recorded) throw new LlmError(`replay of run ${runId}: no recorded response for this request (the episode diverged from the recording)`, 'not_found', [], false);
      return { ...recorded, raw: null };
    },
    set() {},
  };
}
