import pLimit from 'p-limit';
import type { AttemptRecord } from '../store/index.ts';
import { executeAttempt, type AttemptContext } from './_execute.ts';
import type { AttemptJob } from './_job.ts';

/** What a scheduler reports to the coordinator, which alone writes the store, counts spending and draws progress. */
export type Coordinator = {
  /** Asked before an attempt starts: false once the run is stopping (Ctrl-C, --max-cost), or for a job whose config was stopped. */
  mayStart(job?: AttemptJob): boolean | Promise<boolean>;
  episodeEnded(job: AttemptJob, costUsd: number): void;
  recorded(record: AttemptRecord): void;
  /** Attempts running now, and on how many workers. */
  fleet?(status: { workers: number; inFlight: number }): void;
  /** A config's calls started retrying (`retry` set) or got through again, as seen where its attempts run. */
  tried?(event: TryEvent): void;
  /** True once a config gets no new attempt (--fail-fast tripped). */
  configStopped?(configName: string): boolean;
  /** Each job must be admitted with `mayStart(job)` before it is handed out: a spending cap reserves for it. */
  paced?: boolean;
  /** A job admitted by `mayStart(job)` that will not run after all (taken off a queue). */
  dropped?(job: AttemptJob): void;
};

/** What travels from a worker about a provider's trouble: the config, whether the try got through, its message without secrets. */
export type TryEvent = { config: string; ok: boolean; message?: string; retry?: { n: number; of: number; waitMs: number } };

/** Decides when and where attempts run: in this process (`LocalScheduler`) or on workers behind a queue. */
export interface Scheduler {
  run(jobs: AttemptJob[], coordinator: Coordinator): Promise<void>;
}

/** Gradings whose tests run at once for `jobs` attempts in flight: the sandboxes' tests use the CPU, the episodes mostly wait. */
export function gradeSlotsFor(jobs: number): number {
  return Math.max(1, Math.min(jobs, 2));
}

/** How many gradings an attempt runner lets be in flight: what the grader asks for (see Grader), else gradeSlotsFor(jobs). */
export function gradingsInFlight(grader: { inFlight: number | undefined }, jobs: number): number {
  return grader.inFlight ?? gradeSlotsFor(jobs);
}

/**
 * In-process scheduling: at most `jobs` agent episodes at once; grading waits for a slot (see
 * gradingsInFlight) after the episode's slot is released, so a slow grader never keeps a provider idle.
 */
export class LocalScheduler implements Scheduler {
  private readonly episodes: ReturnType<typeof pLimit>;
  private readonly grading: ReturnType<typeof pLimit>;
  private readonly context: AttemptContext;

  constructor(options: { jobs: number; gradeSlots?: number; context: AttemptContext }) {
    this.episodes = pLimit(options.jobs);
    this.grading = pLimit(options.gradeSlots ?? gradingsInFlight(options.context.grader, options.jobs));
    this.context = { ...options.context, cleanups: options.context.cleanups ?? new Set() };
  }

  async run(jobs: AttemptJob[], coordinator: Coordinator): Promise<void> {
    try {
      await this.#attempts(jobs, coordinator);
    } finally {
      // Workspaces still being removed: none outlives the run.
      while (this.context.cleanups!.size > 0) await Promise.all([...this.context.cleanups!]);
    }
  }

  async #attempts(jobs: AttemptJob[], coordinator: Coordinator): Promise<void> {
    await Promise.all(jobs.map(async (job) => {
      const record = await executeAttempt(job, this.context, {
        episode: (work) => this.episodes(async () => {
          if (!(await coordinator.mayStart(job))) return undefined;
          return work();
        }),
        grade: (work) => this.grading(work),
      }, { episodeEnded: (usd) => coordinator.episodeEnded(job, usd) });
      if (record) coordinator.recorded(record);
    }));
  }
}
