import pLimit, { type LimitFunction } from 'p-limit';

/**
 * Per-config concurrency that adapts to rate limits: a 429 cuts it (x0.8, at least 1) and
 * a run of successes brings it back one step at a time, up to the configured maximum.
 */
export class AdaptiveLimit {
  readonly limit: LimitFunction;
  readonly max: number;
  private successes = 0;

  constructor(max: number) {
    this.max = Math.max(1, max);
    this.limit = pLimit(this.max);
  }

  get concurrency(): number {
    return this.limit.concurrency;
  }

  rateLimited(): void {
    this.successes = 0;
    this.limit.concurrency = Math.max(1, Math.floor(this.limit.concurrency * 0.8));
  }

  succeeded(): void {
    if (this.limit.concurrency >= this.max) return;
    if (++this.successes >= 5) {
      this.successes = 0;
      this.limit.concurrency = Math.min(this.max, this.limit.concurrency + 1);
    }
  }

}
