import { PREFIX, attemptsQueueName, connectionOf, finishedKey, queueLibraries, readManifests, redisClient, refusalsKey, type QueueAddress, type RunManifest } from './_queue.ts';

export type RunQueueStatus = {
  runId: string;
  status: RunManifest['status'];
  suite: string;
  configs: string[];
  waiting: number;
  active: number;
  failed: number;
  finished: number;
  workers: number;
  refusals: Record<string, string>;
  updatedAt: string;
};

/** `bench queue status`: per run the queue knows, its jobs waiting, active, failed and finished, and its workers. */
export async function queueStatus(address: QueueAddress, options: { timeoutMs?: number } = {}): Promise<RunQueueStatus[]> {
  const { Queue } = await queueLibraries();
  const redis = await redisClient(address);
  redis.on('error', () => {});
  const deadline = setTimeout(() => redis.disconnect(), options.timeoutMs ?? 10_000);
  try {
    const statuses: RunQueueStatus[] = [];
    for (const manifest of await readManifests(redis)) {
      const queue = new Queue(attemptsQueueName(manifest.runId), { connection: connectionOf(address), prefix: PREFIX });
      try {
        const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'failed');
        statuses.push({
          runId: manifest.runId, status: manifest.status, suite: manifest.suite.name, configs: Object.keys(manifest.configs),
          waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.delayed ?? 0), active: counts.active ?? 0, failed: counts.failed ?? 0,
          finished: Number((await redis.get(finishedKey(manifest.runId))) ?? 0), workers: (await queue.getWorkers()).length,
          refusals: await redis.hgetall(refusalsKey(manifest.runId)), updatedAt: manifest.updatedAt,
        });
      } finally {
        await queue.close();
      }
    }
    return statuses;
  } finally {
    clearTimeout(deadline);
    redis.disconnect();
  }
}
