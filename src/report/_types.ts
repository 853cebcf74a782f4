import type { AttemptRow, Outcome, RoleCostRow, RunRecord } from '../store/index.ts';

export type ReportFormat = 'table' | 'md' | 'json' | 'csv' | 'html';

export const REPORT_FORMATS: readonly ReportFormat[] = ['table', 'md', 'json', 'csv', 'html'];

/** What a report is built from: the runs asked for, all their attempts, and the configs they used. */
export type ReportInput = {
  runs: RunRecord[];
  attempts: AttemptRow[];
  snapshots: { runId: string; name: string; model: string | null; settings: Record<string, unknown> }[];
  /** Cost per role of the attempts that had several (explorer and writer), from one aggregate query. */
  roleCosts: RoleCostRow[];
};

/** One role's share of a row's cost: `explorer gpt3 $0.0012`. */
export type RoleCost = {
  /** `explorer`, `writer`, or `main` beside an explorer. */
  role: string;
  /** The LLM config that played it. */
  config: string;
  model: string | null;
  calls: number;
  /** Sum of the known costs; the whole cost when !costUnknown, else a lower bound. */
  knownCost: number;
  costUnknown: boolean;
  unknownCalls: number;
};

/** How much of what its runs set out to do a row covers. */
export type Coverage = {
  /** Distinct instances attempted. */
  instances: number;
  /** Distinct instances its runs planned (the instances selected for them). */
  plannedInstances: number;
  /** Instances in the suite the runs drew from; null for runs that did not record it. */
  suiteInstances: number | null;
  attempts: number;
  /** Planned instances x repeats, summed over its runs. */
  plannedAttempts: number;
  /** True when attempts are missing (stopped by --max-cost, Ctrl-C, a crash) or the runs took a subset of the suite. */
  partial: boolean;
  /** Why, one phrase each: `run X stopped at --max-cost $0.05: 7 of 31 attempts`, `a subset: 5 of the suite's 31 instances`. */
  reasons: string[];
};

/**
 * One experiment's figures: a config name with one set of settings, one agent with its settings
 * and one submission convention, pooled over every run and repeat given that agree on all four.
 */
export type ConfigSummary = {
  /** The row's name, unique in the report: the config name, plus what differs when several rows share it. */
  config: string;
  /** The config's name as in config.toml. */
  configName: string;
  /** `key value` for what sets this row apart from rows of the same config name (empty when none do). */
  differs: string[];
  /** Hash of the config's settings (secrets removed) and of the agent's settings. */
  settingsHash: string;
  agent: string;
  agentSettingsHash: string;
  /** The agent's submission convention (`explicit`, `autosubmit`) when it states one. */
  submit: string | null;
  /** From the runs' config snapshots; several models are joined with ", " (and noted). */
  model: string | null;
  runIds: string[];
  /** Distinct instances attempted. */
  instances: number;
  /** Most attempts made on any one instance (1 without repeats). */
  repeats: number;
  /** Attempts, infra errors included. */
  total: number;
  resolved: number;
  /** resolved / total; with repeats, the mean over instances of each one's resolved fraction. */
  rate: number;
  /** 95% interval of `rate`: Wilson over attempts, or over instances with repeats (see `clusteredRate`). */
  rateLow: number;
  rateHigh: number;
  /** What the interval counts as independent: `attempts` (one per instance) or `instances` (repeats are clustered). */
  interval: 'attempts' | 'instances';
  /** resolved / (total - infra errors); null when every attempt was an infra error. */
  rateExcludingInfra: number | null;
  outcomes: Record<Outcome, number>;
  /** True when any attempt's cost is unknown: cost figures below are then null, never 0. */
  costUnknown: boolean;
  unknownCostAttempts: number;
  /** Sum of the known costs in USD: the whole cost when !costUnknown, else a lower bound. */
  knownCost: number;
  totalCost: number | null;
  costPerTask: number | null;
  /** Null when the cost is unknown or nothing was resolved. */
  costPerResolved: number | null;
  /** The cost per role (explorer first) of an agent with several; empty for one-config agents. */
  costByRole: RoleCost[];
  tokensIn: number;
  tokensOut: number;
  tokensCacheRead: number;
  tokensCacheWrite: number;
  meanDurationMs: number;
  p95DurationMs: number;
  calls: number;
  retries: number;
  infraRetries: number;
  malformedResponses: number;
  /** Unbiased pass@1 and pass@k averaged over instances; null without repeats. */
  passAt1: number | null;
  passAtK: number | null;
  /** The k of `passAtK`: the most attempts any instance had. */
  passK: number | null;
  /** Instances `passAtK` averages over: those with at least k attempts. */
  passKInstances: number | null;
  coverage: Coverage;
  onFrontier: boolean;
  /** Every attempt ended in model_error or infra_error: it measured the provider or the harness, not the model, and is left out of the frontier. */
  failedOnly: boolean;
  /** A config that is at least as cheap and at least as good (one of them strictly); null on the frontier or when cost is unknown. */
  beatenBy: string | null;
};

/** One config against the baseline on the instances both attempted, first attempt of each. */
export type PairwiseComparison = {
  baseline: string;
  config: string;
  paired: number;
  /** Instances `config` resolved and the baseline did not. */
  wins: number;
  /** Instances the baseline resolved and `config` did not. */
  losses: number;
  ties: number;
  baselineRate: number | null;
  configRate: number | null;
  /** configRate - baselineRate with its 95% interval (normal approximation for paired proportions). */
  difference: number | null;
  differenceLow: number | null;
  differenceHigh: number | null;
  /** McNemar's exact test on wins and losses. */
  pValue: number;
};

export type MatrixCell = {
  /** ✓ ✗ P T M E I ∅ for one attempt, `resolved/attempts` for several, `·` for none. */
  mark: string;
  resolved: number;
  attempts: number;
  /** Outcome of the first attempt (lowest run, then repeat). */
  outcome: Outcome | null;
  /** Store ids of the attempts, the first one first (for links to them). */
  attemptIds: number[];
};

export type Report = {
  runs: { id: string; createdAt: string; status: RunRecord['status']; command: RunRecord['command']; suite: string | null; agent: string | null }[];
  /** True when any row covers only part of what its runs planned, or of the suite. */
  partial: boolean;
  /** The config the pairwise comparisons are against; null when there are no configs. */
  baseline: string | null;
  configs: ConfigSummary[];
  pairwise: PairwiseComparison[];
  /** Configs on the cost / resolve-rate Pareto frontier, cheapest first. */
  frontier: string[];
  /** Configs left out of the frontier because their cost is unknown. */
  frontierLeftOut: string[];
  matrix: { configs: string[]; rows: { instanceId: string; cells: MatrixCell[] }[] };
  /** Caveats a reader must see: unknown costs, unfinished runs, pooled runs, infra errors. */
  notes: string[];
};
