import { runAgent, costOf, type AgentResult } from '../agents/index.ts';
import { redact } from '../config/index.ts';
import type { Grade, Grader } from '../grading/index.ts';
import { createLlmClient, retrySleep, type LlmClient, type ResponseCache, type TryRecord } from '../llm/index.ts';
import type { AttemptRecord } from '../store/index.ts';
import type { Instance } from '../tasks/index.ts';
import type { Arm } from './_arms.ts';
import { gradeFields } from './_attempt.ts';
import { callRecords, usageOf } from './_calls.ts';
import { retryInfra } from './_infra-retry.ts';
import type { AttemptJob } from './_job.ts';
import { decideOutcome } from './_outcome.ts';
import type { Pacing } from './_pacing.ts';

/** What an attempt is executed with, resolved where it runs (the coordinator's process, or a worker's). */
export type AttemptContext = {
  instances: ReadonlyMap<string, Instance>;
  arms: ReadonlyMap<string, Arm>;
  grader: Grader;
  pacing: Pacing;
  responseCache?: ResponseCache;
  env?: NodeJS.ProcessEnv;
  infraRetries: number;
  /** Once aborted, failed steps are not retried. */
  signal?: AbortSignal;
  /**
   * Where an episode's workspace removal is left to finish in the background (the attempt goes on
   * to its grading meanwhile); whoever gives it awaits them all before it is done. Without it, each
   * removal is awaited in turn.
   */
  cleanups?: Set<Promise<void>>;
  /** Told of each provider try as it ends: `retry` numbers a try followed by a retry wait (1 = the first retry of its call). */
  onTry?: (configName: string, tryRecord: TryRecord, retry?: { n: number; of: number }) => void;
};

/** Where the two halves of an attempt wait their turn. */
export type AttemptSlots = {
  /** The agent episode; resolves undefined when the attempt is not to start after all (Ctrl-C, --max-cost). */
  episode<T>(work: () => Promise<T>): Promise<T | undefined>;
  /** Grading: CPU-bound, bounded by the machine's cores rather than by any provider. */
  grade<T>(work: () => Promise<T>): Promise<T>;
};

export type AttemptEvents = {
  /** The episode's cost, as soon as it ends and before grading, so spending limits act early. */
  episodeEnded?(costUsd: number): void;
};

/** `cut`: the run's Ctrl-C ended a retry wait, so the episode is unfinished and is not recorded (a resume runs it). */
type Episode = { result?: AgentResult; error?: string; cut?: boolean };

/**
 * Executes one attempt: the agent episode in its own workspace, then grading of its patch in a
 * fresh one. Returns the attempt record (undefined if it was not started); writes nothing.
 */
export async function executeAttempt(job: AttemptJob, context: AttemptContext, slots: AttemptSlots, events: AttemptEvents = {}): Promise<AttemptRecord | undefined> {
  const instance = context.instances.get(job.instanceId);
  const arm = context.arms.get(job.configName);
  if (!instance || !arm) throw new Error(`attempt ${job.instanceId} / ${job.configName}: not in this run's instances and configs`);
  const secrets = [arm.llm?.settings.api_key, arm.explorer?.settings.api_key].filter((s): s is string => Boolean(s));

  const ran = await slots.episode(async () => {
    const started = new Date();
    const agentStart = performance.now();
    const tries = await retryInfra(() => runEpisode(instance, arm, job.repeat, context, secrets), (episode) => !episode.result, { retries: context.infraRetries, signal: context.signal });
    events.episodeEnded?.(costOf(tries.result.result?.calls ?? []).usd ?? 0);
    return { ...tries, started, agentMs: performance.now() - agentStart };
  });
  if (!ran || ran.result.cut) return undefined;
  const { result: episode, retries: episodeRetries, started, agentMs } = ran;
  const agentResult = episode.result;
  const patch = agentResult?.patch.trim() ? agentResult.patch : null;
  // Once the run is stopping, only paid work is finished: an episode that made no model call (a
  // baseline's) is cheap to redo, so it is dropped, even when it is already waiting for a grading slot.
  const unpaid = (agentResult?.calls.length ?? 0) === 0;
  const dropped = () => Boolean(context.signal?.aborted) && unpaid;
  if (dropped()) return undefined;

  // Grading and the record wait for this turn's other I/O: model answers that came with this
  // episode's end free their provider slots, and the calls waiting for them go out, first.
  await new Promise<void>((resolve) => setImmediate(resolve));
  const gradeStart = performance.now();
  // A grading failure is retried on its own: the paid episode is never run again for it.
  const graded = agentResult
    ? await retryInfra(() => slots.grade(async () => (dropped() ? undefined : context.grader.grade(instance, patch))), (grade) => grade?.outcome === 'infra_error', { retries: context.infraRetries, signal: context.signal })
    : undefined;
  if (agentResult && !graded?.result) return undefined;
  const grade: Grade | undefined = graded?.result;
  const gradeMs = performance.now() - gradeStart;

  const calls = agentResult?.calls ?? [];
  const cost = costOf(calls);
  const outcome = decideOutcome(agentResult, patch, grade);
  const finished = new Date();
  return {
    instanceId: instance.instance_id, instanceHash: instance.contentHash, resolved: false, resolution: null, patchHash: null, tests: [],
    ...(grade ? gradeFields(instance, grade, outcome) : {}),
    runId: job.runId, configName: arm.name, repeat: job.repeat, agent: arm.agentName, outcome,
    patch: agentResult ? patch : null,
    error: agentResult ? agentResult.error ?? grade?.error ?? null : episode.error ?? 'agent episode failed',
    exitReason: agentResult?.exit ?? null, malformedCount: agentResult?.malformedCount ?? 0,
    costUsd: cost.unknown ? null : cost.usd, costUnknown: cost.unknown, ...usageOf(calls),
    infraRetries: episodeRetries + (graded?.retries ?? 0),
    startedAt: started.toISOString(), finishedAt: finished.toISOString(), durationMs: finished.getTime() - started.getTime(), agentMs, gradeMs,
    trajectory: agentResult?.trajectory, llmCalls: callRecords(calls, secrets),
  };
}

/** One agent episode in a fresh workspace; a sandbox failure is a value, with the secrets taken out. */
async function runEpisode(instance: Instance, arm: Arm, repeat: number, context: AttemptContext, secrets: string[]): Promise<Episode> {
  const cut = { happened: false };
  try {
    const environment = await context.grader.environment(instance);
    // Early: the base is copied while the agent does what needs no files (a model call on a shared index).
    const workspace = await context.grader.sandbox.createWorkspace(environment, { early: true });
    try {
      const result = await runAgent({
        // The run's Ctrl-C is not passed on: the first one lets episodes in flight finish, whole.
        instance, workspace, settings: arm.settings, fresh: true,
        clients: { main: arm.llm && client(arm.llm, repeat, context, cut), explorer: arm.explorer && client(arm.explorer, repeat, context, cut) },
      });
      return cut.happened ? { result, cut: true } : { result };
    } finally {
      const destroyed = workspace.destroy().catch(() => {});
      if (context.cleanups) {
        context.cleanups.add(destroyed);
        void destroyed.then(() => context.cleanups!.delete(destroyed));
      } else await destroyed;
    }
  } catch (error) {
    if (cut.happened) return { cut: true };
    return { error: redact(`agent episode failed: ${(error as Error).message}`, secrets) };
  }
}

function client(config: NonNullable<Arm['llm']>, repeat: number, context: AttemptContext, cut: { happened: boolean }): LlmClient {
  // One client's calls are made one after another, so its retries are counted per call here.
  let retriesInCall = 0;
  const onTry = (record: TryRecord) => {
    if (record.waitMs !== undefined) retriesInCall++;
    const retry = record.waitMs !== undefined ? { n: retriesInCall, of: config.settings.num_retries ?? 8 } : undefined;
    if (record.waitMs === undefined) retriesInCall = 0;
    context.onTry?.(config.name, record, retry);
  };
  // The run's Ctrl-C ends a retry wait, and a wait for the provider (an account's pause after a 429,
  // a full limit), at once; a call in flight, already paid for, is left to finish.
  const stop = context.signal;
  const untilStopped = <T>(wait: (signal: AbortSignal | undefined) => Promise<T>, signal: AbortSignal | undefined): Promise<T> =>
    wait(stop && signal ? AbortSignal.any([stop, signal]) : stop ?? signal).catch((error: unknown) => {
      if (stop?.aborted) cut.happened = true;
      throw error;
    });
  const pacer = context.pacing.pacerFor(config, context.env);
  return createLlmClient(config, {
    onTry,
    sleep: (ms, signal) => untilStopped((either) => retrySleep(ms, either), signal),
    env: context.env,
    cache: context.responseCache,
    // Namespaced per repeat, so repeated runs are separate samples, not one cached answer.
    cacheNamespace: `repeat-${repeat}`,
    pacer: stop ? { acquire: (signal) => untilStopped((either) => pacer.acquire(either), signal) } : pacer,
  });
}
