import type { AgentSettings } from '../config/index.ts';
import type { Completion, LlmClient, TryRecord } from '../llm/index.ts';
import type { Workspace } from '../sandbox/index.ts';
import type { Instance } from '../tasks/index.ts';

/** One model call, in order, for the store. */
export type AgentCall = {
  role: 'main' | 'explorer';
  configName: string;
  /** On success. */
  completion?: Completion;
  /** On LlmError; the message is already redacted by the client. */
  error?: { errorClass: string; message: string; tries: TryRecord[] };
};

export type TrajectoryStep =
  | { kind: 'message'; role: 'system' | 'user' | 'assistant' | 'tool'; content: string }
  | { kind: 'command'; command: string; exitCode: number | null; timedOut: boolean; output: string; durationMs: number }
  /** Limit reached, format error, budget, edits applied or refused... */
  | { kind: 'note'; text: string };

export type AgentExit =
  | 'submitted' | 'max_steps' | 'budget' | 'wall_time' | 'format_errors'
  | 'model_error' | 'malformed' | 'baseline';

export type AgentResult = {
  /** The workspace's git diff at exit ('' = empty patch). */
  patch: string;
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
  /** Defaults already filled in by the caller (missing limits fall back to AGENT_DEFAULTS). */
  settings: AgentSettings;
  /** None for gold/empty. */
  clients: { main?: LlmClient; explorer?: LlmClient };
  /** Run cancelled (Ctrl-C): stop promptly, still return the diff. */
  signal?: AbortSignal;
  /** From the main config's native_tool_calling. */
  nativeToolCalling?: boolean;
  /** From the main config's max_input_tokens: the prompt budget of the patch agent (default 24k). */
  maxInputTokens?: number;
};

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
};
