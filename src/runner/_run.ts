import { runAgent, costOf, type AgentCall, type AgentResult } from '../agents/index.ts';
import { withoutSecrets, redact } from '../config/index.ts';
import { createLlmClient, LlmError, type Completion, type LlmClient, type ResponseCache } from '../llm/index.ts';
import { attemptKey, type AttemptRecord, type LlmCallRecord, type Outcome, type Store } from '../store/index.ts';
import { canonicalJson, type Instance, type TaskSet } from '../tasks/index.ts';
import { UserError } from '../errors.ts';
import type { Arm } from './_arms.ts';
import { gradeFields, instanceRows } from './_attempt.ts';
import type { Grader } from '../grading/index.ts';
import { LocalScheduler, type Lane, type Scheduler } from './_scheduler.ts';
import { Progress } from './_progress.ts';
import { HARNESS_VERSION, gitCommit } from '../version.ts';

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
  /** Responses for `--cache` (recorded and reused) or `--replay` (only recorded ones). */
  responseCache?: ResponseCache;
  signal?: AbortSignal;
  quiet?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Where attempts run; in this process by default. */
  scheduler?: Scheduler;
  /** Recorded with the run, so a resume can show how it was started. */
  commandLine?: string[];
};

export type RunResult = { runId: string; attempted: number; skipped: number; stoppedByCost: boolean; interrupted: boolean };

type Job = { instance: Instance; arm: Arm; repeat: number; config: string };

/**
 * Fans instances x arms x repeats through the scheduler. Each attempt: an agent episode in its own
 * workspace, then grading of its patch in a fresh one; the attempt, its calls and its grade are
 * written in one transaction. A resumed run does only what is missing.
 */
export async function runBenchmark(options: RunOptions): Promise<RunResult> {
  const { store, arms, runId } = options;
  startRun(options);
  const done = store.completedKeys(runId);
  const jobs: Job[] = [];
  for (let repeat = 0; repeat < options.runs; repeat++) {
    for (const instance of options.instances) {
      for (const arm of arms) if (!done.has(attemptKey(instance.instance_id, arm.name, repeat))) jobs.push({ instance, arm, repeat, config: arm.name });
    }
  }
  const scheduler = options.scheduler ?? new LocalScheduler({
    jobs: options.jobs,
    perConfig: (config) => arms.find((arm) => arm.name === config)?.llm?.settings.max_concurrency ?? options.jobs,
  });
  const progress = new Progress(jobs.length, { quiet: options.quiet });
  let spent = store.attempts([runId]).reduce((sum, a) => sum + (a.costUsd ?? 0), 0);
  let stoppedByCost = false;
  let attempted = 0;

  const shouldStart = (): boolean => {
    if (options.signal?.aborted) return false;
    if (options.maxCost !== undefined && spent >= options.maxCost) {
      stoppedByCost = true;
      return false;
    }
    attempted++;
    return true;
  };
  await scheduler.run(jobs, async (job, lane) => {
    const record = await attemptWithRetries(job, options, { lane, shouldStart, spend: (usd) => (spent += usd) });
    if (!record) return;
    store.recordAttempt(record);
    progress.record(job.arm.name, record.outcome, record.costUnknown ? null : record.costUsd);
  });
  progress.finish();
  const interrupted = Boolean(options.signal?.aborted);
  store.updateRunStatus(runId, interrupted ? 'interrupted' : 'finished');
  return { runId, attempted, skipped: done.size, stoppedByCost, interrupted };
}

function startRun(options: RunOptions): void {
  const { store, runId, arms, taskSet, instances } = options;
  const existing = store.getRun(runId);
  if (existing) checkResumable(options, existing.command);
  if (existing) store.updateRunStatus(runId, 'running');
  else {
    store.createRun({
      id: runId, createdAt: new Date().toISOString(), status: 'running', command: 'run', harnessVersion: HARNESS_VERSION, gitCommit: gitCommit(),
      suite: taskSet.name, suiteHash: taskSet.hash, agent: arms[0]?.agentName ?? null,
      options: { runs: options.runs, jobs: options.jobs, maxCost: options.maxCost ?? null, sandbox: options.grader.sandbox.kind, argv: options.commandLine ?? [],
        agents: Object.fromEntries(arms.map((arm) => [arm.name, { agent: arm.agentName, ...arm.settings }])) },
    });
  }
  const saved = new Set(store.configSnapshots(runId).map((s) => s.name));
  for (const arm of arms) if (!saved.has(arm.name)) store.saveConfigSnapshot(runId, arm.name, arm.llm?.settings.model, snapshotOf(arm));
  store.saveInstances(instanceRows(taskSet, instances));
}

/** A resumed run must be the same experiment: same suite, same settings for every config it already has. */
function checkResumable(options: RunOptions, command: string): void {
  const { store, runId, arms, taskSet } = options;
  const fix = 'Resume with the same configs, settings and suite, or pass a new --run-id.';
  if (command !== 'run') throw new UserError(`Run ${runId} is a \`bench ${command}\` run; \`bench run\` cannot resume it. ${fix}`);
  const run = store.getRun(runId)!;
  if (run.suiteHash && run.suiteHash !== taskSet.hash) throw new UserError(`Run ${runId} was made on another version of suite ${run.suite}. ${fix}`);
  const snapshots = new Map(store.configSnapshots(runId).map((s) => [s.name, s.settings]));
  for (const arm of arms) {
    const before = snapshots.get(arm.name);
    if (before && canonicalJson(before) !== canonicalJson(snapshotOf(arm))) {
      throw new UserError(`Run ${runId} was started with other settings for config \`${arm.name}\` (\`bench configs\` shows the current ones). ${fix}`);
    }
  }
}

function snapshotOf(arm: Arm): Record<string, unknown> {
  const settings = arm.llm ? withoutSecrets(arm.llm.settings as Record<string, unknown>) : { baseline: arm.name };
  return { ...settings, ...(arm.explorer ? { explorer: { name: arm.explorer.name, ...withoutSecrets(arm.explorer.settings as Record<string, unknown>) } } : {}) };
}

type Lanes = {
  lane: Lane;
  shouldStart: () => boolean;
  /** Counts an episode's cost toward --max-cost as soon as the episode ends, before grading. */
  spend: (usd: number) => void;
};

/**
 * An episode the sandbox could not run is retried a bounded number of times, then recorded as
 * infra_error; grading failures are retried inside `attempt`, without running the agent again.
 */
async function attemptWithRetries(job: Job, options: RunOptions, lanes: Lanes): Promise<AttemptRecord | undefined> {
  const maxRetries = options.infraRetries ?? 2;
  let record: AttemptRecord | undefined;
  for (let infra = 0; infra <= maxRetries; infra++) {
    // A retry is the same attempt again, not a new one: it is not counted against --max-cost twice.
    record = await attempt(job, options, { ...lanes, shouldStart: infra > 0 ? () => !options.signal?.aborted : lanes.shouldStart });
    if (!record) return undefined;
    record.infraRetries += infra;
    if (record.outcome !== 'infra_error' || record.exitReason !== null || options.signal?.aborted) break;
  }
  return record;
}

/** The agent episode inside the slots, then grading outside them; undefined when it was not started. */
async function attempt(job: Job, options: RunOptions, lanes: Lanes): Promise<AttemptRecord | undefined> {
  const { instance, arm, repeat } = job;
  const secrets = [arm.llm?.settings.api_key, arm.explorer?.settings.api_key].filter((s): s is string => Boolean(s));
  const episode = await lanes.lane.hold(async () => {
    if (!lanes.shouldStart()) return undefined;
    const started = new Date();
    const agentStart = performance.now();
    let agentResult: AgentResult | undefined;
    let infraError: string | undefined;
    try {
      const environment = await options.grader.environment(instance);
      const workspace = await options.grader.sandbox.createWorkspace(environment);
      try {
        agentResult = await runAgent({
          // The run's Ctrl-C is not passed on: the first one lets episodes in flight finish, whole.
          instance, workspace, settings: arm.settings,
          clients: { main: arm.llm && client(arm.llm, repeat, options, lanes.lane), explorer: arm.explorer && client(arm.explorer, repeat, options, lanes.lane) },
          nativeToolCalling: arm.llm?.settings.native_tool_calling,
          maxInputTokens: arm.llm?.settings.max_input_tokens,
        });
      } finally {
        await workspace.destroy().catch(() => {});
      }
    } catch (error) {
      infraError = redact(`agent episode failed: ${(error as Error).message}`, secrets);
    }
    lanes.spend(costOf(agentResult?.calls ?? []).usd ?? 0);
    return { started, agentStart, agentResult, infraError };
  });
  if (!episode) return undefined;
  const { started, agentStart, agentResult, infraError } = episode;
  const agentMs = performance.now() - agentStart;
  const calls = agentResult?.calls ?? [];
  const cost = costOf(calls);
  const usage = usageOf(calls);
  const base = {
    runId: options.runId, configName: arm.name, repeat, agent: arm.agentName, startedAt: started.toISOString(),
    exitReason: agentResult?.exit ?? null, malformedCount: agentResult?.malformedCount ?? 0,
    costUsd: cost.unknown ? null : cost.usd, costUnknown: cost.unknown, ...usage, infraRetries: 0, agentMs,
    trajectory: agentResult?.trajectory, llmCalls: callRecords(calls, secrets),
  };
  const finish = (fields: Partial<AttemptRecord> & { outcome: Outcome }, gradeMs = 0): AttemptRecord => {
    const finished = new Date();
    return {
      instanceId: instance.instance_id, instanceHash: instance.contentHash, resolved: false, resolution: null, patch: agentResult?.patch ?? null,
      patchHash: null, error: null, tests: [], ...base, ...fields, finishedAt: finished.toISOString(), durationMs: finished.getTime() - started.getTime(), gradeMs,
    };
  };
  if (!agentResult) return finish({ outcome: 'infra_error', error: infraError ?? 'agent episode failed' });

  const patch = agentResult.patch.trim() ? agentResult.patch : null;
  const gradeStart = performance.now();
  // A grading infra failure is retried on its own: the paid episode is never run again for it.
  let grade = await lanes.lane.grade(() => options.grader.grade(instance, patch));
  let gradeRetries = 0;
  while (grade.outcome === 'infra_error' && gradeRetries < (options.infraRetries ?? 2)) {
    gradeRetries++;
    grade = await lanes.lane.grade(() => options.grader.grade(instance, patch));
  }
  const gradeMs = performance.now() - gradeStart;
  let outcome: Outcome = grade.outcome;
  // The model's trouble explains an unresolved attempt better than "empty patch".
  if (outcome !== 'resolved' && outcome !== 'infra_error') {
    if (agentResult.exit === 'model_error') outcome = 'model_error';
    else if (agentResult.exit === 'malformed' || (agentResult.exit === 'format_errors' && !patch)) outcome = 'malformed';
  }
  return finish({ ...gradeFields(instance, grade, outcome), patch, error: agentResult.error ?? grade.error ?? null, infraRetries: gradeRetries }, gradeMs);
}

function client(config: NonNullable<Arm['llm']>, repeat: number, options: RunOptions, pace: Lane): LlmClient {
  return createLlmClient(config, {
    env: options.env,
    cache: options.responseCache,
    // Namespaced per repeat, so repeated runs are separate samples, not one cached answer.
    cacheNamespace: `repeat-${repeat}`,
    onTry: (tryRecord) => {
      if (tryRecord.errorClass === 'rate_limit') pace.rateLimited();
      else if (tryRecord.status === 'ok') pace.succeeded();
    },
  });
}

function usageOf(calls: AgentCall[]) {
  const usage = { tokensIn: 0, tokensOut: 0, tokensCacheRead: 0, tokensCacheWrite: 0, calls: calls.length, retries: 0 };
  for (const call of calls) {
    const tries = call.completion?.tries ?? call.error?.tries ?? [];
    usage.retries += Math.max(0, tries.length - 1);
    if (!call.completion) continue;
    usage.tokensIn += call.completion.usage.input;
    usage.tokensOut += call.completion.usage.output;
    usage.tokensCacheRead += call.completion.usage.cacheRead;
    usage.tokensCacheWrite += call.completion.usage.cacheWrite;
  }
  return usage;
}

function callRecords(calls: AgentCall[], secrets: string[]): LlmCallRecord[] {
  return calls.map((call, seq) => {
    const c = call.completion;
    const tries = c?.tries ?? call.error?.tries ?? [];
    return {
      seq, configName: call.configName, role: call.role, provider: c?.provider ?? null, model: c?.model ?? null,
      status: c ? 'ok' : 'error', errorClass: call.error?.errorClass ?? null, errorMessage: call.error ? redact(call.error.message, secrets) : null,
      tokensIn: c?.usage.input ?? 0, tokensOut: c?.usage.output ?? 0, tokensCacheRead: c?.usage.cacheRead ?? 0, tokensCacheWrite: c?.usage.cacheWrite ?? 0,
      costUsd: c ? c.cost : null, latencyMs: c?.latencyMs ?? 0, retries: Math.max(0, tries.length - 1), tries,
      requestHash: c?.requestHash ?? null, response: c ? storedCompletion(c) : undefined, cached: c?.cached ?? false,
    };
  });
}

/** What replay needs of a completion; the raw provider body stays out of the store. */
function storedCompletion(c: Completion): Omit<Completion, 'raw'> {
  const { raw: _raw, ...rest } = c;
  return rest;
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
