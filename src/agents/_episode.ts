import { AGENT_DEFAULTS, type AgentSettings } from '../config/index.ts';
import { LlmError, type Completion, type LlmClient, type Message, type ToolSpec } from '../llm/index.ts';
import { sourceDiff } from './_submission.ts';
import type { ExecResult, Workspace } from '../sandbox/index.ts';
import type { AgentCall, AgentExit, AgentInput, AgentLimits, AgentResult, TrajectoryStep } from './_types.ts';

/** Every limit an agent reads, from the settings or else the documented defaults. */
export function limitsOf(settings: Partial<AgentSettings>): AgentLimits {
  const pick = <K extends keyof typeof AGENT_DEFAULTS>(key: K): (typeof AGENT_DEFAULTS)[K] => settings[key] ?? AGENT_DEFAULTS[key];
  return {
    maxSteps: pick('max_steps'),
    maxBudgetUsd: pick('max_budget_per_task'),
    maxWallTimeMs: pick('max_wall_time') * 1000,
    commandTimeoutMs: pick('command_timeout') * 1000,
    maxOutputChars: pick('max_output_chars'),
    maxFormatErrors: pick('max_format_errors'),
    maxFiles: pick('max_files'),
    editFormat: pick('edit_format'),
    submit: pick('submit'),
    explorerMaxSteps: pick('explorer_max_steps'),
    maxRepairTurns: pick('max_repair_turns'),
  };
}

/** The USD of one call: its answer and billed failed tries, or for a failed call the tries it was billed for. */
export function callCost(call: AgentCall): number | null | undefined {
  // A cached answer carries its original call's cost, so a replayed run costs what the original did.
  if (call.completion) return call.completion.cost;
  const billed = (call.error?.tries ?? []).filter((t) => t.cost !== undefined);
  if (billed.length === 0) return undefined;
  return billed.some((t) => t.cost === null) ? null : billed.reduce((sum, t) => sum + t.cost!, 0);
}

/** Sum of the known costs; `usd` is null only when some cost is unknown and none is known. */
export function costOf(calls: AgentCall[]): { usd: number | null; unknown: boolean } {
  let usd = 0;
  let known = 0;
  let unknown = false;
  for (const call of calls) {
    const cost = callCost(call);
    if (cost === undefined) continue;
    if (cost === null) unknown = true;
    else {
      usd += cost;
      known++;
    }
  }
  return { usd: unknown && known === 0 ? null : usd, unknown };
}

export type CallOutcome =
  | { ok: true; completion: Completion }
  | { ok: false; exit: AgentExit; error?: string };

/**
 * What one agent run accumulates (calls, trajectory, malformed answers) and the limits that end it:
 * the wall-time deadline and the caller's abort signal are merged into one signal.
 */
export class Episode {
  readonly calls: AgentCall[] = [];
  readonly trajectory: TrajectoryStep[] = [];
  readonly limits: AgentLimits;
  readonly workspace: Workspace;
  readonly signal: AbortSignal;
  malformedCount = 0;
  #cancel: AbortSignal | undefined;
  #deadline: number;
  #abortNoted = false;
  #timer: NodeJS.Timeout | undefined;
  #wall = new AbortController();
  #pauses = 0;
  #pausedAt = 0;
  #finished = false;

  constructor(input: AgentInput) {
    this.limits = limitsOf(input.settings);
    this.workspace = input.workspace;
    this.#cancel = input.signal;
    this.#deadline = Date.now() + this.limits.maxWallTimeMs;
    this.#arm();
    this.signal = input.signal ? AbortSignal.any([input.signal, this.#wall.signal]) : this.#wall.signal;
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#wall.abort(new Error('wall time reached')), Math.max(0, this.#deadline - Date.now()));
    this.#timer.unref();
  }

  /**
   * A wait for the provider (retry back-off, rate-limit pause, a free call slot) is not the
   * agent's time: the wall-time clock stops while it lasts and the deadline moves by it.
   */
  #pause(): () => void {
    if (this.#wall.signal.aborted) return () => {};
    if (this.#pauses++ === 0) {
      clearTimeout(this.#timer);
      this.#pausedAt = Date.now();
    }
    let resumed = false;
    return () => {
      if (resumed) return;
      resumed = true;
      if (--this.#pauses > 0 || this.#finished) return;
      this.#deadline += Date.now() - this.#pausedAt;
      this.#arm();
    };
  }

  note(text: string): void {
    this.trajectory.push({ kind: 'note', text });
  }

  /** Records a message of the conversation, with its tool calls, under the role that had it. */
  record(message: Message, agentRole: AgentCall['role'] = 'main'): void {
    this.trajectory.push({
      kind: 'message', role: message.role, content: message.content,
      ...(message.toolCalls ? { toolCalls: message.toolCalls } : {}),
      ...(message.toolCallId ? { toolCallId: message.toolCallId } : {}),
      ...(agentRole === 'main' ? {} : { agentRole }),
    });
  }

  message(role: 'system' | 'user' | 'assistant' | 'tool', content: string): void {
    this.record({ role, content });
  }

  spentUsd(): number {
    return costOf(this.calls).usd ?? 0;
  }

  /** The limit that forbids another model call, if any (steps are counted by the agent itself). */
  stopped(): AgentExit | null {
    if (this.signal.aborted) return this.#abortExit();
    if (this.spentUsd() >= this.limits.maxBudgetUsd) {
      this.note(`budget reached: $${this.spentUsd().toFixed(4)} spent of max_budget_per_task $${this.limits.maxBudgetUsd}`);
      return 'budget';
    }
    return null;
  }

  #abortExit(): AgentExit {
    // There is no exit of its own for a cancelled run: the caller knows it cancelled.
    if (!this.#abortNoted) this.note(this.#cancel?.aborted ? 'run cancelled: stopped early' : `wall time reached (max_wall_time ${this.limits.maxWallTimeMs / 1000} s)`);
    this.#abortNoted = true;
    return 'wall_time';
  }

  /** One model call, recorded in order; an LlmError becomes exit model_error, never a throw. */
  async call(role: AgentCall['role'], client: LlmClient, messages: Message[], tools?: ToolSpec[]): Promise<CallOutcome> {
    try {
      const completion = await client.complete(messages, { ...(tools ? { tools } : {}), signal: this.signal, onPause: () => this.#pause() });
      this.calls.push({ role, configName: client.configName, completion });
      return { ok: true, completion };
    } catch (error) {
      if (this.signal.aborted) return { ok: false, exit: this.#abortExit() };
      const failure = error instanceof LlmError
        ? { errorClass: error.errorClass, message: error.message, tries: error.tries }
        : { errorClass: 'unexpected', message: error instanceof Error ? error.message : String(error), tries: [] };
      this.calls.push({ role, configName: client.configName, error: failure });
      this.note(`model error (${failure.errorClass}) from ${role} config '${client.configName}': ${failure.message}`);
      return { ok: false, exit: 'model_error', error: failure.message };
    }
  }

  /** Runs a command in the workspace within the wall time; null when the run was stopped meanwhile. */
  exec(command: string, options: { timeoutMs: number; stdin?: string }): Promise<ExecResult | null> {
    return this.within(options.timeoutMs, (timeoutMs) => this.workspace.exec(command, { ...options, timeoutMs }));
  }

  /** Runs work on the workspace (a command, a patch applied) within the wall time; null when the run was stopped meanwhile. */
  async within(limitMs: number, start: (timeoutMs: number) => Promise<ExecResult>): Promise<ExecResult | null> {
    if (this.signal.aborted) return null;
    const timeoutMs = Math.max(1, Math.min(limitMs, this.#deadline - Date.now()));
    const running = start(timeoutMs);
    running.catch(() => undefined);
    let onAbort: () => void = () => {};
    const stopped = new Promise<null>((resolve) => {
      onAbort = () => resolve(null);
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([running, stopped]);
    } finally {
      this.signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * The result on any exit. Under `explicit` the patch is what the model submitted (nothing on a
   * limit); under `autosubmit` it is the source diff whatever the exit. `submission` is the
   * submitted text of an agent that submits by command; agents that edit files (the patch agent)
   * submit their diff by ending with `submitted`.
   */
  async finish(exit: AgentExit, options: { error?: string; submission?: string } = {}): Promise<AgentResult> {
    this.#finished = true;
    clearTimeout(this.#timer);
    const { submission } = options;
    let { error } = options;
    const submit = this.limits.submit;
    let patch = '';
    let excluded: string[] = [];
    if (submit === 'explicit' && exit === 'submitted' && submission !== undefined) patch = submission;
    else if (submit === 'autosubmit' || exit === 'submitted') {
      const diff = await sourceDiff(this.workspace);
      // An oversized workspace is the model's doing: no patch, graded as such, the reason kept.
      if (!diff.ok) {
        this.note(`no patch: ${diff.message}`);
        error = error === undefined ? diff.message : `${error}; ${diff.message}`;
      } else ({ patch, excluded } = diff);
    }
    if (excluded.length > 0) this.note(`left out of the diff as the agent's own files: ${excluded.join(', ')}`);
    if (submit === 'explicit' && exit !== 'submitted') this.note(`nothing submitted (exit ${exit}): the patch is empty, as in mini-swe-agent (submit = "explicit")`);
    return {
      patch,
      submit,
      ...(excluded.length > 0 ? { excluded } : {}),
      exit,
      malformedCount: this.malformedCount,
      calls: this.calls,
      trajectory: this.trajectory,
      ...(error === undefined ? {} : { error }),
    };
  }
}
