import type { AttemptRow, Outcome, RunRecord } from '../store/index.ts';

export type ReportFormat = 'table' | 'md' | 'json' | 'csv' | 'html';

export const REPORT_FORMATS: readonly ReportFormat[] = ['table', 'md', 'json', 'csv', 'html'];

/** What a report is built from: the runs asked for, all their attempts, and the configs they used. */
export type ReportInput = {
  runs: RunRecord[];
  attempts: AttemptRow[];
  snapshots: { runId: string; name: string; model: string | null; settings: Record<string, unknown> }[];
};

/** One config's figures, pooled over every run and repeat given. */
export type ConfigSummary = {
  config: string;
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
  /** resolved / total. */
  rate: number;
  /** 95% Wilson interval of `rate`. */
  rateLow: number;
  rateHigh: number;
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
  onFrontier: boolean;
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
};

export type Report = {
  runs: { id: string; createdAt: string; status: RunRecord['status']; command: RunRecord['command']; suite: string | null; agent: string | null }[];
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
