export const OUTCOMES = ['resolved', 'unresolved', 'patch_failed', 'timeout', 'malformed', 'model_error', 'infra_error', 'empty_patch', 'tampered'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export type RunRecord = {
  id: string;
  createdAt: string;
  finishedAt?: string | null;
  status: 'running' | 'finished' | 'interrupted' | 'failed';
  command: 'eval' | 'run';
  harnessVersion: string;
  gitCommit?: string | null;
  suite?: string | null;
  suiteHash?: string | null;
  agent?: string | null;
  options: Record<string, unknown>;
};

export type TestResultRecord = { testId: string; status: string; expectation: 'FAIL_TO_PASS' | 'PASS_TO_PASS' | null };

export type LlmCallRecord = {
  seq: number;
  configName: string;
  role: string;
  provider?: string | null;
  model?: string | null;
  status: 'ok' | 'error';
  errorClass?: string | null;
  errorMessage?: string | null;
  tokensIn: number;
  tokensOut: number;
  tokensCacheRead: number;
  tokensCacheWrite: number;
  costUsd: number | null;
  latencyMs: number;
  retries: number;
  tries: unknown[];
  requestHash?: string | null;
  response?: unknown;
  cached: boolean;
};

/** The calls of one role and LLM config, summed over the attempts of one config and agent in one run. */
export type RoleCostRow = {
  runId: string;
  configName: string;
  agent: string;
  /** `explorer`, `writer`, or `main` for the main config of an agent with an explorer. */
  role: string;
  llmConfig: string;
  model: string | null;
  calls: number;
  /** The known part; unknownCalls say how many calls had no known cost. */
  knownCostUsd: number;
  unknownCalls: number;
};

export type AttemptRecord = {
  runId: string;
  instanceId: string;
  instanceHash?: string | null;
  configName: string;
  repeat: number;
  agent: string;
  outcome: Outcome;
  resolution?: 'FULL' | 'PARTIAL' | 'NO' | null;
  resolved: boolean;
  patch?: string | null;
  patchHash?: string | null;
  error?: string | null;
  exitReason?: string | null;
  malformedCount: number;
  costUsd: number | null;
  costUnknown: boolean;
  tokensIn: number;
  tokensOut: number;
  tokensCacheRead: number;
  tokensCacheWrite: number;
  calls: number;
  retries: number;
  infraRetries: number;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  agentMs: number;
  gradeMs: number;
  grade?: unknown;
  trajectory?: unknown;
  tests: TestResultRecord[];
  llmCalls: LlmCallRecord[];
};

/** An attempt as read back for reports: everything but the bulky patch, grade and trajectory. */
export type AttemptRow = Omit<AttemptRecord, 'patch' | 'grade' | 'trajectory' | 'tests' | 'llmCalls'> & {
  id: number;
  /** The grade's patch flags (grading/_flags.ts), read from the stored grade. */
  flags: string[];
  /** Why the grade is `tampered`, when it is. */
  tamperReason: string | null;
};

export type StoredGrade = { outcome: Outcome; grade: unknown };
