import { priceOf } from '../llm/index.ts';
import type { AttemptRow, Store } from '../store/index.ts';
import type { Instance } from '../tasks/index.ts';
import type { Arm } from './_arms.ts';
import { missingJobs, type AttemptJob } from './_job.ts';

/** What `bench run --dry-run` prints: the attempts a run would make, and what each config may cost. */
export type RunPlan = {
  runId: string;
  attempts: AttemptJob[];
  /** Attempts the store already holds for this run id (a resume skips them). */
  done: number;
  configs: ConfigEstimate[];
};

/** A config's estimated cost, in USD, from the 25th to the 75th percentile of what one attempt costs; null when unknown. */
export type ConfigEstimate = { config: string; attempts: number; low: number | null; high: number | null; basis: string };

/**
 * Plans a run without calling a model or writing anything: the missing attempts, and per config
 * a cost range priced at the config's own prices from the token counts of recorded attempts
 * (of the same config and agent, else of the same agent with any config).
 */
export function planRun(options: { store?: Store; runId: string; instances: Instance[]; arms: Arm[]; runs: number }): RunPlan {
  const { store, runId } = options;
  const done = store?.completedKeys(runId) ?? new Set<string>();
  const attempts = missingJobs(runId, options.instances, options.arms, options.runs, done);
  const history = store ? store.attempts(store.listRuns().map((run) => run.id)).filter((a) => a.calls > 0) : [];
  const configs = options.arms.map((arm) => estimateArm(arm, attempts.filter((job) => job.configName === arm.name).length, history));
  return { runId, attempts, done: done.size, configs };
}

function estimateArm(arm: Arm, attempts: number, history: AttemptRow[]): ConfigEstimate {
  const estimate = (low: number | null, high: number | null, basis: string) => ({ config: arm.name, attempts, low, high, basis });
  if (!arm.llm) return estimate(0, 0, 'no model calls');
  const llms = [arm.llm, arm.explorer].filter((llm) => llm !== undefined);
  const unpriced = llms.filter((llm) => !isPriced(llm.settings));
  if (unpriced.length) return estimate(null, null, `no price known for ${unpriced.map((llm) => llm.settings.model ?? llm.name).join(', ')} (set input_cost_per_token and output_cost_per_token)`);
  const own = history.filter((a) => a.configName === arm.name && a.agent === arm.agentName);
  const similar = own.length ? own : history.filter((a) => a.agent === arm.agentName);
  if (similar.length === 0) return estimate(null, null, `no recorded attempt of agent ${arm.agentName} to take token counts from`);
  // Two configs in one attempt (explorer and writer): the recorded tokens are not split by config, so the recorded cost stands.
  const costs = similar
    .map((a) => (arm.explorer ? (a.configName === arm.name ? a.costUsd : null) : priceOf(arm.llm!.settings, { input: a.tokensIn, output: a.tokensOut, cacheRead: a.tokensCacheRead, cacheWrite: a.tokensCacheWrite })))
    .filter((cost): cost is number => cost !== null)
    .sort((a, b) => a - b);
  if (costs.length === 0) return estimate(null, null, `the recorded attempts of agent ${arm.agentName} have no known cost`);
  const from = own.length ? `${arm.name} (agent ${arm.agentName})` : `agent ${arm.agentName} with other configs`;
  return estimate(attempts * quantile(costs, 0.25), attempts * quantile(costs, 0.75), `tokens of ${costs.length} recorded attempt${costs.length === 1 ? '' : 's'} of ${from}`);
}

/** Whether bench can price a config's calls (from the price table or its own *_cost_per_token keys). */
export function isPriced(settings: Parameters<typeof priceOf>[0]): boolean {
  return priceOf(settings, { input: 1000, output: 1000, cacheRead: 0, cacheWrite: 0 }) !== null;
}

/** The configs of the run whose calls bench cannot price, so a spending cap would not see them. */
export function unpricedConfigs(arms: Arm[]): { name: string; model: string }[] {
  const seen = new Map<string, { name: string; model: string }>();
  for (const llm of arms.flatMap((arm) => [arm.llm, arm.explorer])) {
    if (llm && !isPriced(llm.settings)) seen.set(llm.name, { name: llm.name, model: llm.settings.model ?? '(no model)' });
  }
  return [...seen.values()];
}

function quantile(sorted: number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const below = Math.floor(at);
  return sorted[below]! + (sorted[Math.min(below + 1, sorted.length - 1)]! - sorted[below]!) * (at - below);
}
