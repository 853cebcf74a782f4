import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ResolvedLlmConfig } from '../config/index.ts';
import type { Pacer } from '../llm/index.ts';
import { SHARED_PAUSE_MS, accountOf, type Pacing } from './_pacing.ts';
import { PREFIX } from './_queue.ts';

/** A slot is a lease: a worker killed mid-call gives its slots back when the lease runs out. */
const LEASE_MS = 30_000;
const POLL_MS = 25;

// Redis's clock, not each machine's, so the fleet agrees on pauses and leases.
const NOW = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)";

/** 0: acquired; > 0: the account is paused this many ms more; -1: the config's slots are all taken. */
const ACQUIRE = `${NOW}
local paused = tonumber(redis.call('GET', KEYS[3]) or '0')
if paused > now then return paused - now end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local max = tonumber(ARGV[3])
local limit = math.min(max, tonumber(redis.call('HGET', KEYS[2], 'limit') or ARGV[3]))
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
  return 0
end
return -1`;

const RENEW = `${NOW}
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return 0`;

/** Gives the slot back; a 429 cuts the config's limit for the whole fleet and pauses the account. */
const RELEASE = `${NOW}
redis.call('ZREM', KEYS[1], ARGV[1])
local max = tonumber(ARGV[4])
local limit = math.min(max, tonumber(redis.call('HGET', KEYS[2], 'limit') or ARGV[4]))
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[2], 'limit', math.max(1, math.floor(limit * 0.8)), 'successes', 0)
  local resume = now + tonumber(ARGV[3])
  if resume > tonumber(redis.call('GET', KEYS[3]) or '0') then redis.call('SET', KEYS[3], resume, 'PX', tonumber(ARGV[3])) end
elseif limit < max then
  if redis.call('HINCRBY', KEYS[2], 'successes', 1) >= 5 then redis.call('HSET', KEYS[2], 'limit', limit + 1, 'successes', 0) end
end
redis.call('PEXPIRE', KEYS[2], 3600000)
return 0`;

/**
 * Pacing shared by every worker through Redis: a config's max_concurrency holds across the
 * fleet (a sorted set of leased slots), a 429 cuts that limit for all, and pauses every config
 * on the same provider account (keyed by a hash, never the key itself) until its Retry-After.
 */
export class RedisPacing implements Pacing {
  private readonly redis: Redis;

  constructor(redis: Redis) {
    this.redis = redis;
  }

  pacerFor(config: ResolvedLlmConfig, env: NodeJS.ProcessEnv = process.env): Pacer {
    const account = accountOf(config, env);
    const keys = [`${PREFIX}:pace:slots:${account}:${config.name}`, `${PREFIX}:pace:limit:${account}:${config.name}`, `${PREFIX}:pace:pause:${account}`];
    const max = Math.max(1, config.settings.max_concurrency ?? 4);
    return { acquire: (signal) => this.acquire(keys, max, signal) };
  }

  private async acquire(keys: string[], max: number, signal?: AbortSignal): Promise<(ended: { rateLimited: boolean; retryAfterMs?: number }) => void> {
    const token = randomUUID();
    for (;;) {
      signal?.throwIfAborted();
      const verdict = Number(await this.redis.eval(ACQUIRE, 3, ...keys, token, LEASE_MS, max));
      if (verdict === 0) break;
      await new Promise((resolve) => setTimeout(resolve, verdict > 0 ? verdict : POLL_MS));
    }
    const renewal = setInterval(() => void this.redis.eval(RENEW, 3, ...keys, token, LEASE_MS).catch(() => {}), LEASE_MS / 3);
    renewal.unref();
    let done = false;
    return (ended) => {
      if (done) return;
      done = true;
      clearInterval(renewal);
      void this.redis.eval(RELEASE, 3, ...keys, token, ended.rateLimited ? 1 : 0, Math.round(ended.retryAfterMs ?? SHARED_PAUSE_MS), max).catch(() => {});
    };
  }
}
