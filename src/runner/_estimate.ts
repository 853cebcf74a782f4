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
  const runIds = store ? store.listRuns().map((run) => run.id) : [];
  const history = store ? store.attempts(runIds).filter((a) => a.calls > 0) : [];
  const calls = store ? store.callTokens(runIds) : new Map();
  const configs = options.arms.map((arm) => estimateArm(arm, attempts.filter((job) => job.configName === arm.name).length, history, calls));
  return { runId, attempts, done: done.size, configs };
}

type CallTokens = ReturnType<Store['callTokens']>;

/** An attempt at a config's prices: each call priced on its own, as it was billed (long-context tiers are per request); null if any is unknown. */
function attemptCost(settings: Parameters<typeof priceOf>[0], calls: CallTokens extends Map<number, infer C> ? C : never): number | null {
  let total = 0;
  for (const call of calls) {
    const cost = priceOf(settings, call);
    if (cost === null) return null;
    total += cost;
  }
  return total;
}

function estimateArm(arm: Arm, attempts: number, history: AttemptRow[], calls: CallTokens): ConfigEstimate {
  const estimate = (low: number | null, high: number | null, basis: string) => ({ config: arm.name, attempts, low, high, basis });
  if (!arm.llm) return estimate(0, 0, 'no model calls');
  const llms = [arm.llm, arm.explorer].filter((llm) => llm !== undefined);
  const unpriced = llms.filter((llm) => !isPriced(llm.settings));
  if (unpriced.length) return estimate(null, null, `no price known for ${unpriced.map((llm) => llm.settings.model ?? llm.name).join(', ')} (set input_cost_per_token and output_cost_per_token)`);
  const own = history.filter((a) => a.configName === arm.name && a.agent === arm.agentName);
  const similar = own.length ? own : history.filter((a) => a.agent === arm.agentName);
  if (similar.length === 0) return estimate(null, null, `no recorded attempt of agent ${arm.agentName} to take token counts from`);
  // An attempt whose calls were not recorded cannot be priced.
  const priced = (attemptId: number) => {
    const recorded = calls.get(attemptId);
    return recorded ? attemptCost(arm.llm!.settings, recorded) : null;
  };
  // Two configs in one attempt (explorer and writer): the recorded tokens are not split by config, so the recorded cost stands.
  const costs = similar
    .map((a) => (arm.explorer ? (a.configName === arm.name ? a.costUsd : null) : priced(a.id)))
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
