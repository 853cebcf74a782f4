import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AttemptRecord } from '../store/index.ts';
import { sha256, type TaskSet } from '../tasks/index.ts';
import { HARNESS_VERSION } from '../version.ts';
import type { Arm } from './_arms.ts';
import { DEFAULT_INFRA_RETRIES } from './_infra-retry.ts';
import { armHash } from './_run-record.ts';
import type { AttemptJob } from './_job.ts';
import { jobKey } from './_job.ts';
import {
  PREFIX, RUNS_KEY, attemptsQueueName, connectionOf, eventsChannel, finishedKey, queueLibraries, redisClient, refusalsKey, resultsQueueName,
  type QueueAddress, type RunManifest,
} from './_queue.ts';
import type { Coordinator, Scheduler, TryEvent } from './_scheduler.ts';

/** The BullMQ job id of an attempt: the same on every enqueue, so a re-attached run adds only what is missing. */
export function attemptJobId(job: AttemptJob): string {
  return `a-${sha256(jobKey(job)).slice(0, 32)}`;
}

const TICK_MS = 250;

/** The scheduler of `bench run --queue`: the run's manifest holds names and content hashes only. */
export function queueScheduler(options: { address: QueueAddress; runId: string; arms: Arm[]; taskSet: TaskSet; infraRetries?: number; log: (message: string) => void }): QueueScheduler {
  return new QueueScheduler({
    address: options.address, log: options.log,
    manifest: {
      runId: options.runId, suite: { name: options.taskSet.name, hash: options.taskSet.hash }, agent: options.arms[0]?.agentName ?? 'bash',
      configs: Object.fromEntries(options.arms.map((arm) => [arm.name, armHash(arm)])),
      infraRetries: options.infraRetries ?? DEFAULT_INFRA_RETRIES, harnessVersion: HARNESS_VERSION,
    },
  });
}

/**
 * Runs attempts on `bench worker` processes through a BullMQ queue named for the run. Workers
 * send each record to the run's results queue; this process consumes it (a record that arrives
 * twice, after a redelivery, is stored once by the coordinator) and keeps the fleet's counts.
 */
export class QueueScheduler implements Scheduler {
  private readonly address: QueueAddress;
  private readonly manifest: Omit<RunManifest, 'status' | 'updatedAt'>;
  private readonly log: (message: string) => void;

  constructor(options: { address: QueueAddress; manifest: Omit<RunManifest, 'status' | 'updatedAt'>; log: (message: string) => void }) {
    this.address = options.address;
    this.manifest = options.manifest;
    this.log = options.log;
  }

  async run(jobs: AttemptJob[], coordinator: Coordinator): Promise<void> {
    const runId = this.manifest.runId;
    const connection = connectionOf(this.address);
    const { Queue, Worker } = await queueLibraries();
    const redis = await redisClient(this.address);
    const attempts = new Queue<AttemptJob>(attemptsQueueName(runId), { connection, prefix: PREFIX });
    const resultsQueue = new Queue(resultsQueueName(runId), { connection, prefix: PREFIX });
    const resultsWaiting = async () => Object.values(await resultsQueue.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).reduce((a, b) => a + b, 0);
    const pending = new Map(jobs.map((job) => [jobKey(job), job]));
    let lost = false;
    redis.on('error', () => {
      if (!lost) this.log(`Redis at ${this.address.shown} is unreachable; waiting for it (Ctrl-C stops; resume with the same --run-id).`);
      lost = true;
    });
    redis.on('ready', () => {
      if (lost) this.log(`Redis at ${this.address.shown} is back.`);
      lost = false;
    });

    const results = new Worker<{ record: AttemptRecord }>(resultsQueueName(runId), async (job: Job<{ record: AttemptRecord }>) => {
      const record = job.data.record;
      const key = jobKey(record);
      coordinator.recorded(record);
      if (pending.delete(key)) await redis.incr(finishedKey(runId));
      // Storing a record takes milliseconds: a short lock hands a record back soon after a coordinator is killed holding it.
    }, { connection, prefix: PREFIX, concurrency: 1, removeOnComplete: { count: 0 }, removeOnFail: { count: 1000 }, drainDelay: 1, lockDuration: 5000, stalledInterval: 5000, maxStalledCount: 100 });
    results.on('error', () => {});
    attempts.on('error', () => {});
    resultsQueue.on('error', () => {});
    // Retry and recovery lines from the workers, printed as a local run prints them.
    const events = redis.duplicate();
    events.on('error', () => {});
    events.on('message', (_channel: string, text: string) => {
      try {
        coordinator.tried?.(JSON.parse(text) as TryEvent);
      } catch {
        // Not one of ours: ignored.
      }
    });
    await events.subscribe(eventsChannel(runId)).catch(() => {});
    const stoppedConfigs = new Set<string>();

    try {
      await this.publish(redis, 'running');
      // Records already waiting (a coordinator killed before storing them) come in before anything is enqueued again.
      await results.waitUntilReady();
      for (let i = 0; i < 200 && (await resultsWaiting()) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      // Under a spending cap each job is admitted (its cost reserved) before it is enqueued; otherwise all go at once.
      const admitted = new Set<string>();
      let withheld = 0;
      const feeding = coordinator.paced
        ? this.feed(attempts, pending, admitted, coordinator, () => withheld++)
        : this.enqueue(attempts, [...pending.values()]).then(() => { for (const key of pending.keys()) admitted.add(key); });
      if (!coordinator.paced) await feeding;
      const refused = new Set<string>();
      let draining = false;
      const since = Date.now();
      let hinted = false;
      while (pending.size > 0) {
        await new Promise((resolve) => setTimeout(resolve, TICK_MS));
        if (lost) continue;
        try {
          // Redis restarted empty: publish the run again and enqueue what has no record yet.
          if (!(await redis.hexists(RUNS_KEY, runId))) {
            this.log(`The run's queue is gone from Redis (restarted without its data); enqueuing the ${pending.size} attempts without a record again.`);
            await this.publish(redis, 'running');
            if (!draining) await this.enqueue(attempts, [...pending.values()].filter((job) => admitted.has(jobKey(job))));
          }
          const counts = await attempts.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
          const workers = (await attempts.getWorkers()).length;
          coordinator.fleet?.({ workers, inFlight: counts.active ?? 0 });
          if (workers === 0 && !hinted && Date.now() - since > 10_000) {
            hinted = true;
            this.log(`No worker serves run ${runId} yet: start \`bench worker --queue ${this.address.shown}\` where the attempts should run.`);
          }
          for (const [worker, message] of Object.entries(await redis.hgetall(refusalsKey(runId)))) {
            if (!refused.has(worker)) this.log(`worker ${worker} refused this run: ${message}`);
            refused.add(worker);
          }
          await this.withdrawStopped(attempts, pending, coordinator, stoppedConfigs, admitted);
          if (!draining && !(await coordinator.mayStart())) {
            draining = true;
            await attempts.drain(true);
          }
          if (draining && (counts.active ?? 0) === 0 && (await resultsWaiting()) === 0) break;
        } catch {
          // A command lost to a connection drop; the next tick tries again.
        }
      }
      await feeding.catch(() => {});
      await this.publish(redis, pending.size === 0 && withheld === 0 ? 'finished' : 'interrupted');
    } finally {
      events.disconnect();
      await results.close();
      await resultsQueue.close();
      await attempts.close();
      redis.disconnect();
    }
  }

  /**
   * Enqueues the jobs one by one as the coordinator admits them (a cap reserves each one's expected
   * cost first and waits for room), so the workers never hold more than the cap can pay for.
   */
  private async feed(attempts: Queue<AttemptJob>, pending: Map<string, AttemptJob>, admitted: Set<string>, coordinator: Coordinator, withheld: () => void): Promise<void> {
    for (const [key, job] of [...pending]) {
      if (!pending.has(key)) continue;
      if (!(await coordinator.mayStart(job))) {
        pending.delete(key);
        // A config --fail-fast stopped is done with, as when its queued jobs are withdrawn; the cap or a stop leaves the run unfinished.
        if (!coordinator.configStopped?.(job.configName)) withheld();
        continue;
      }
      admitted.add(key);
      // Redis away: the job is tried again until it is queued (the connection waits for Redis).
      for (;;) {
        try {
          await this.enqueue(attempts, [job]);
          break;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, TICK_MS));
        }
      }
    }
  }

  /** Takes the waiting jobs of a config --fail-fast stopped off the queue; those a worker already holds finish and are stored. */
  private async withdrawStopped(attempts: Queue<AttemptJob>, pending: Map<string, AttemptJob>, coordinator: Coordinator, done: Set<string>, admitted: Set<string>): Promise<void> {
    const configs = new Set([...pending.values()].map((job) => job.configName).filter((name) => !done.has(name) && coordinator.configStopped?.(name)));
    for (const config of configs) {
      for (const [key, job] of pending) {
        if (job.configName !== config) continue;
        const queued = await attempts.getJob(attemptJobId(job));
        if (!queued || !(await queued.isWaiting())) continue;
        // A job a worker took meanwhile is locked: remove() fails and its record comes in as usual.
        if (await queued.remove().then(() => true, () => false)) {
          pending.delete(key);
          if (admitted.delete(key)) coordinator.dropped?.(job);
        }
      }
      done.add(config);
    }
  }

  private async publish(redis: Redis, status: RunManifest['status']): Promise<void> {
    const manifest: RunManifest = { ...this.manifest, status, updatedAt: new Date().toISOString() };
    await redis.hset(RUNS_KEY, manifest.runId, JSON.stringify(manifest));
  }

  private async enqueue(attempts: Queue<AttemptJob>, jobs: AttemptJob[]): Promise<void> {
    const ids = new Set(jobs.map(attemptJobId));
    // Attempts whose job failed for good (a worker's own failure, never an attempt's outcome) are tried again.
    for (const failed of await attempts.getFailed()) if (failed.id && ids.has(failed.id)) await failed.retry().catch(() => {});
    for (let i = 0; i < jobs.length; i += 500) {
      await attempts.addBulk(jobs.slice(i, i + 500).map((job) => ({
        name: 'attempt',
        data: { runId: job.runId, instanceId: job.instanceId, configName: job.configName, repeat: job.repeat },
        opts: { jobId: attemptJobId(job), attempts: 3, backoff: { type: 'fixed', delay: 1000 }, removeOnComplete: true, removeOnFail: false },
      })));
    }
  }
}
