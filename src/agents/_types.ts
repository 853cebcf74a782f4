import type { AgentSettings } from '../config/index.ts';
import type { Completion, LlmClient, ToolCall, TryRecord } from '../llm/index.ts';
import type { Workspace } from '../sandbox/index.ts';
import type { Instance } from '../tasks/index.ts';

/** One model call, in order, for the store. */
export type AgentCall = {
  /** `main` for one-model agents; `explorer` and `writer` for the roles of a two-config agent. */
  role: 'main' | 'explorer' | 'writer';
  configName: string;
  /** On success. */
  completion?: Completion;
  /** On LlmError; the message is already redacted by the client. */
  error?: { errorClass: string; message: string; tries: TryRecord[] };
};

export type TrajectoryStep =
  | { kind: 'message'; role: 'system' | 'user' | 'assistant' | 'tool'; content: string; toolCalls?: ToolCall[]; toolCallId?: string; agentRole?: AgentCall['role'] }
  | { kind: 'command'; command: string; exitCode: number | null; timedOut: boolean; output: string; durationMs: number }
  /** Limit reached, format error, budget, edits applied or refused... */
  | { kind: 'note'; text: string };

export type AgentExit =
  | 'submitted' | 'max_steps' | 'budget' | 'wall_time' | 'format_errors'
  | 'model_error' | 'malformed' | 'baseline';

export type AgentResult = {
  /** What is graded ('' = empty patch): the submission under `explicit`, the source diff under `autosubmit`. */
  patch: string;
  /** The submission convention the patch was taken under. */
  submit: SubmitMode;
  /** New files left out of a computed diff as the agent's scratch (reproduction scripts, new test files). */
  excluded?: string[];
  exit: AgentExit;
  /** Answers (or edit blocks) that were not a valid command / edit. */
  malformedCount: number;
  calls: AgentCall[];
  trajectory: TrajectoryStep[];
  /** Last model error when exit is model_error. */
  error?: string;
};

export type AgentInput = {
  instance: Instance;
  workspace: Workspace;
  /** The agent's section as written (missing limits fall back to AGENT_DEFAULTS); each agent reads its own keys. */
  settings: AgentSettings;
  /** None for gold/empty; `main` is the writer of a two-config agent. */
  clients: { main?: LlmClient; explorer?: LlmClient };
  /** Run cancelled (Ctrl-C): stop promptly, still return the diff. */
  signal?: AbortSignal;
  /**
   * The workspace is as createWorkspace made it, nothing changed in it yet: what an agent reads
   * from it may be shared with other workspaces of the same `contentKey`.
   */
  fresh?: boolean;
};

export type SubmitMode = 'explicit' | 'autosubmit';

/** The limits an agent reads, every one present. */
export type AgentLimits = {
  maxSteps: number;
  maxBudgetUsd: number;
  maxWallTimeMs: number;
  commandTimeoutMs: number;
  maxOutputChars: number;
  maxFormatErrors: number;
  maxFiles: number;
  editFormat: 'search_replace' | 'udiff';
  submit: SubmitMode;
  explorerMaxSteps: number;
  maxRepairTurns: number;
};
