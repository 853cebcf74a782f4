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
  PREFIX, RUNS_KEY, attemptsQueueName, connectionOf, finishedKey, queueLibraries, redisClient, refusalsKey, resultsQueueName,
  type QueueAddress, type RunManifest,
} from './_queue.ts';
import type { Coordinator, Scheduler } from './_scheduler.ts';

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

    try {
      await this.publish(redis, 'running');
      // Records already waiting (a coordinator killed before storing them) come in before anything is enqueued again.
      await results.waitUntilReady();
      for (let i = 0; i < 200 && (await resultsWaiting()) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      await this.enqueue(attempts, [...pending.values()]);
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
            if (!draining) await this.enqueue(attempts, [...pending.values()]);
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
          if (!draining && !coordinator.mayStart()) {
            draining = true;
            await attempts.drain(true);
          }
          if (draining && (counts.active ?? 0) === 0 && (await resultsWaiting()) === 0) break;
        } catch {
          // A command lost to a connection drop; the next tick tries again.
        }
      }
      await this.publish(redis, pending.size === 0 ? 'finished' : 'interrupted');
    } finally {
      await results.close();
      await resultsQueue.close();
      await attempts.close();
      redis.disconnect();
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
