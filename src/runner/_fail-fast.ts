import type { AttemptRecord } from '../store/index.ts';

/** Identical provider errors in a row after which a config gets no new attempt (`bench run` default). */
export const DEFAULT_FAIL_FAST = 5;

/** A provider error without the config's name and its try counts, so the same failure reads the same on every attempt. */
function signature(error: string): string {
  return error.replace(/^LLM config '[^']*' \([^)]*\) failed (on the first try|after \d+ tries), /, '').replace(/ \(num_retries = \d+\)/, '');
}

/**
 * Stops scheduling a config whose attempts keep failing the same way at the provider (a revoked
 * key, a deleted deployment, an exhausted account): `threshold` identical model errors in a row
 * trip it. Any other outcome of the config starts the count again; 0 never trips.
 */
export class ConfigBreaker {
  private readonly streaks = new Map<string, { error: string; count: number }>();
  private readonly tripped = new Map<string, string>();
  private readonly threshold: number;
  constructor(threshold: number) {
    this.threshold = threshold;
  }

  /** Counts one stored attempt; returns the reason when this attempt trips its config. */
  record(record: AttemptRecord): string | undefined {
    const config = record.configName;
    if (this.tripped.has(config) || this.threshold <= 0) return undefined;
    if (record.outcome !== 'model_error' || !record.error) {
      this.streaks.delete(config);
      return undefined;
    }
    const error = signature(record.error);
    const streak = this.streaks.get(config);
    const count = streak?.error === error ? streak.count + 1 : 1;
    this.streaks.set(config, { error, count });
    if (count < this.threshold) return undefined;
    const reason = `${count} identical provider errors in a row: ${record.error.slice(0, 300)}`;
    this.tripped.set(config, reason);
    return reason;
  }

  stopped(config: string): boolean {
    return this.tripped.has(config);
  }

  /** Each stopped config with why. */
  get stoppedConfigs(): { config: string; reason: string }[] {
    return [...this.tripped].map(([config, reason]) => ({ config, reason }));
  }
}

/**
 * The failed attempts of a run, grouped by config, outcome and error: `gpt3: 31 model_error: HTTP 401 ...`,
 * most frequent first, so the end of a run says what went wrong without a database query.
 */
export function errorSummary(attempts: Pick<AttemptRecord, 'configName' | 'outcome' | 'error'>[]): string[] {
  const groups = new Map<string, { config: string; outcome: string; error: string; count: number }>();
  for (const attempt of attempts) {
    if (attempt.outcome !== 'model_error' && attempt.outcome !== 'infra_error') continue;
    const error = signature(attempt.error ?? 'no error recorded').slice(0, 200);
    const key = JSON.stringify([attempt.configName, attempt.outcome, error]);
    const group = groups.get(key) ?? { config: attempt.configName, outcome: attempt.outcome, error, count: 0 };
    group.count++;
    groups.set(key, group);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count).map((g) => `${g.config}: ${g.count} ${g.outcome}: ${g.error}`);
}
