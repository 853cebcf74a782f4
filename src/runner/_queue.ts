import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { maskUrl } from '../config/index.ts';
import { UserError } from '../errors.ts';

/** Every key bench keeps in Redis starts with this (BullMQ's queues included, as their prefix). */
export const PREFIX = 'bench';
/** Hash: run id → the run's manifest (JSON). */
export const RUNS_KEY = `${PREFIX}:runs`;
export const finishedKey = (runId: string) => `${PREFIX}:finished:${runId}`;
export const refusalsKey = (runId: string) => `${PREFIX}:refusals:${runId}`;
/** Pub/sub channel on which workers tell the coordinator a config started retrying or recovered (TryEvent JSON, no secret). */
export const eventsChannel = (runId: string) => `${PREFIX}:events:${runId}`;

/**
 * What a worker needs to take part in a run, and to check that it would run the same
 * experiment: names and content hashes, never a setting's value and never a key.
 */
export type RunManifest = {
  runId: string;
  suite: { name: string; hash: string };
  agent: string;
  /** Config name → content hash of its settings (without secrets), agent and limits. */
  configs: Record<string, string>;
  infraRetries: number;
  harnessVersion: string;
  status: 'running' | 'finished' | 'interrupted';
  updatedAt: string;
};

export type QueueAddress = { url: string; shown: string };

/** Checks `redis://HOST:PORT[/DB]`; `shown` is the address with any password masked, for messages. */
export function parseQueueUrl(value: string | undefined, flag = '--queue'): QueueAddress {
  const fix = `Pass ${flag} redis://HOST:PORT[/DB], e.g. ${flag} redis://127.0.0.1:6379/0.`;
  if (!value) throw new UserError(`${flag} needs the Redis address. ${fix}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UserError(`${flag} \`${maskUrl(value)}\` is not a URL. ${fix}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new UserError(`${flag} must be a redis:// address, got \`${url.protocol}\`. ${fix}`);
  if (!url.hostname) throw new UserError(`${flag} \`${maskUrl(value)}\` names no host. ${fix}`);
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new UserError(`${flag}: the database in \`${maskUrl(value)}\` must be a number (/0 to /15), got \`${db}\`. ${fix}`);
  return { url: value, shown: maskUrl(value) };
}

/** BullMQ's connection options: wait for Redis forever (a restart is waited out), never fail a command early. */
export function connectionOf(address: QueueAddress) {
  return { url: address.url, maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(200 * times, 2000) };
}

export async function redisClient(address: QueueAddress): Promise<Redis> {
  const { Redis } = await queueLibraries();
  return new Redis(address.url, connectionOf(address));
}

/** Queue names are made of the run id; BullMQ refuses `:` in them. */
export function attemptsQueueName(runId: string): string {
  return `run-${runId.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

export function resultsQueueName(runId: string): string {
  return `${attemptsQueueName(runId)}-results`;
}

export async function readManifests(redis: Redis): Promise<RunManifest[]> {
  const all = await redis.hgetall(RUNS_KEY);
  return Object.values(all).map((text) => JSON.parse(text) as RunManifest).sort((a, b) => (a.runId < b.runId ? -1 : 1));
}

type QueueLibraries = { Queue: typeof Queue; Worker: typeof Worker; Redis: typeof Redis };
let libraries: Promise<QueueLibraries> | undefined;

/** BullMQ and ioredis (a few hundred modules) load when a queue is first used, not with every command. */
export function queueLibraries(): Promise<QueueLibraries> {
  libraries ??= Promise.all([import('bullmq'), import('ioredis')]).then(([bullmq, ioredis]) => ({ Queue: bullmq.Queue, Worker: bullmq.Worker, Redis: ioredis.Redis }));
  return libraries;
}
