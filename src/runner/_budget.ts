import type { AttemptJob } from './_job.ts';
import { jobKey } from './_job.ts';

/**
 * `--max-cost`: an attempt starts only when what is spent, plus what the attempts in flight are
 * expected to cost, plus its own expected cost stays within the cap, so the attempts already
 * running cannot carry the run past it. An attempt's expected cost is the mean of its config's
 * finished episodes (else the dearest config's mean); before any episode has finished, attempts
 * start one at a time. A reservation is settled to the episode's real cost when it ends.
 */
export class CostBudget {
  private spent: number;
  /** Expected cost of each attempt in flight whose episode has not ended (undefined: nothing to go by yet). */
  private readonly reserved = new Map<string, number | undefined>();
  /** Cost of each ended episode whose record has not been stored yet. */
  private readonly settled = new Map<string, number>();
  private readonly perConfig = new Map<string, { sum: number; count: number }>();
  private wake: (() => void)[] = [];
  /** Some attempt was not started because it would not fit. */
  refused = false;

  private readonly limit: number | undefined;

  constructor(limit: number | undefined, history: { configName: string; costUsd: number | null }[] = []) {
    this.limit = limit;
    this.spent = 0;
    // A resumed run's attempts, as `recorded` counts them (an unknown cost's known part is not stored: 0).
    for (const attempt of history) {
      this.spent += attempt.costUsd ?? 0;
      this.learn(attempt.configName, attempt.costUsd ?? 0);
    }
  }

  /** Resolves true once the attempt fits (its expected cost is then reserved), false when it never will or the run stops. */
  async reserve(job: AttemptJob, signal?: AbortSignal): Promise<boolean> {
    if (this.limit === undefined) return true;
    for (;;) {
      if (signal?.aborted) return false;
      const expected = this.expected(job.configName);
      const inFlight = this.reserved.size;
      const committed = this.committed();
      const fits = expected === undefined ? inFlight === 0 && committed < this.limit : committed + expected <= this.limit && committed < this.limit;
      if (fits) {
        this.reserved.set(jobKey(job), expected);
        return true;
      }
      // Nothing in flight can change the picture: this attempt would go past the cap.
      if (inFlight === 0) {
        this.refused = true;
        return false;
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          signal?.removeEventListener('abort', done);
          resolve();
        };
        this.wake.push(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** The episode's real cost replaces its reservation, and teaches the config's expected cost. */
  episodeEnded(job: AttemptJob, usd: number): void {
    const key = jobKey(job);
    this.reserved.delete(key);
    this.settled.set(key, (this.settled.get(key) ?? 0) + usd);
    this.learn(job.configName, usd);
    this.notify();
  }

  /** An attempt that reserved and then did not start after all. */
  release(job: AttemptJob): void {
    this.reserved.delete(jobKey(job));
    this.notify();
  }

  /**
   * A stored record: its cost is spent for good. A record whose cost is partly unknown (null)
   * counts what its episode reported as known; a record from a queue, whose episode ended on a
   * worker, teaches its config's expected cost as episodeEnded would (an unpriced config: 0).
   */
  recorded(job: AttemptJob, usd: number | null): void {
    const key = jobKey(job);
    const episode = this.settled.get(key);
    this.settled.delete(key);
    this.reserved.delete(key);
    const known = usd ?? episode ?? 0;
    if (episode === undefined) this.learn(job.configName, known);
    this.spent += known;
    this.notify();
  }

  /** Spent, settled and reserved so far. */
  committed(): number {
    let total = this.spent;
    for (const usd of this.settled.values()) total += usd;
    for (const usd of this.reserved.values()) total += usd ?? 0;
    return total;
  }

  /** The mean cost of a config's episodes; for a config with none yet, the dearest config's mean. */
  expected(configName?: string): number | undefined {
    const own = configName === undefined ? undefined : this.perConfig.get(configName);
    if (own) return own.sum / own.count;
    const means = [...this.perConfig.values()].map((c) => c.sum / c.count);
    return means.length ? Math.max(...means) : undefined;
  }

  private learn(configName: string, usd: number): void {
    const entry = this.perConfig.get(configName) ?? { sum: 0, count: 0 };
    entry.sum += usd;
    entry.count++;
    this.perConfig.set(configName, entry);
  }

  private notify(): void {
    const waiting = this.wake;
    this.wake = [];
    for (const resolve of waiting) resolve();
  }
}
