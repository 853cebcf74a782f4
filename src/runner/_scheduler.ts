import pLimit from 'p-limit';
import { AdaptiveLimit } from './_pacing.ts';

/** What an attempt holds while its agent talks to a provider, and how it reports back on pacing. */
export type Lane = {
  /** Runs the part of an attempt that needs a provider slot (the agent episode). */
  hold<T>(work: () => Promise<T>): Promise<T>;
  /** Grading: CPU-bound, so bounded by this machine's cores rather than by any provider. */
  grade<T>(work: () => Promise<T>): Promise<T>;
  rateLimited(): void;
  succeeded(): void;
};

/**
 * Decides when and where attempts run. The runner hands it every job and the function that
 * executes one; `LocalScheduler` runs them in this process. A queue-backed scheduler (BullMQ on
 * Redis, workers on other machines calling the same `execute`) can take its place unchanged.
 */
export interface Scheduler {
  run<J extends { config: string }>(jobs: J[], execute: (job: J, lane: Lane) => Promise<void>): Promise<void>;
}

/**
 * In-process scheduling: a job holds its config's adaptive slot and a global slot for the agent
 * episode only; grading waits for one of `gradeSlots` after the episode's slots are released,
 * so a slow grader never keeps a provider idle and a rate-limited config never starves the rest.
 */
export class LocalScheduler implements Scheduler {
  private readonly global: ReturnType<typeof pLimit>;
  private readonly grading: ReturnType<typeof pLimit>;
  private readonly pacing = new Map<string, AdaptiveLimit>();
  private readonly perConfig: (config: string) => number;

  constructor(options: { jobs: number; perConfig: (config: string) => number; gradeSlots?: number }) {
    this.global = pLimit(options.jobs);
    this.grading = pLimit(options.gradeSlots ?? Math.max(1, Math.min(options.jobs, 2)));
    this.perConfig = options.perConfig;
  }

  async run<J extends { config: string }>(jobs: J[], execute: (job: J, lane: Lane) => Promise<void>): Promise<void> {
    await Promise.all(jobs.map((job) => execute(job, this.lane(job.config))));
  }

  /** The adaptive limit of one config, for inspection. */
  pace(config: string): AdaptiveLimit {
    let pace = this.pacing.get(config);
    if (!pace) this.pacing.set(config, (pace = new AdaptiveLimit(this.perConfig(config))));
    return pace;
  }

  private lane(config: string): Lane {
    const pace = this.pace(config);
    return {
      hold: (work) => pace.limit(() => this.global(work)),
      grade: (work) => this.grading(work),
      rateLimited: () => pace.rateLimited(),
      succeeded: () => pace.succeeded(),
    };
  }
}
