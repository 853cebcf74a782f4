import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RedisPacing } from '../../src/runner/index.ts';
import { llmConfig } from '../llm/_fixtures.ts';
import { redisAvailable, startRedis, type RedisServer } from '../helpers/redis.ts';

const haveRedis = await redisAvailable();
let redis: RedisServer;
const clients: Redis[] = [];
const env = {};

/** One pacing per "worker", each with its own connection, as separate machines would have. */
function fleet(size: number): RedisPacing[] {
  return Array.from({ length: size }, () => {
    const client = new Redis(redis.url);
    clients.push(client);
    return new RedisPacing(client);
  });
}

beforeAll(async () => {
  if (haveRedis) redis = await startRedis();
});

afterAll(async () => {
  for (const client of clients) client.disconnect();
  await redis?.stop();
});

describe.runIf(haveRedis)('pacing shared through Redis', () => {
  const base = { model: 'openai/gpt-4o-mini', base_url: 'http://127.0.0.1:9/v1', api_key: 'sk-fleet-pacing' };

  test('a config\'s max_concurrency holds across ten workers', async () => {
    const config = llmConfig({ ...base, max_concurrency: 3 }, 'fleet-limit');
    const pacers = fleet(10).map((pacing) => pacing.pacerFor(config, env));
    let inFlight = 0;
    let peak = 0;
    await Promise.all(pacers.flatMap((pacer) => [0, 1].map(async () => {
      const ended = await pacer.acquire();
      peak = Math.max(peak, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 30));
      inFlight--;
      ended({ rateLimited: false });
    })));
    expect(peak).toBe(3);
  });

  test('a 429 seen by one worker holds back every worker on the same key until its Retry-After, and no other key', async () => {
    const [first, second, third] = fleet(3);
    const shared = llmConfig({ ...base, max_concurrency: 4 }, 'fleet-429');
    (await first!.pacerFor(shared, env).acquire())({ rateLimited: true, retryAfterMs: 400 });
    const started = performance.now();
    const sameKey = (async () => { (await second!.pacerFor(llmConfig({ ...base, max_concurrency: 4, temperature: 0.5 }, 'other-config'), env).acquire())({ rateLimited: false }); return performance.now() - started; })();
    const otherKey = (async () => { (await third!.pacerFor(llmConfig({ ...base, api_key: 'sk-another-account', max_concurrency: 4 }, 'fleet-429'), env).acquire())({ rateLimited: false }); return performance.now() - started; })();
    expect(await otherKey).toBeLessThan(200);
    expect(await sameKey).toBeGreaterThanOrEqual(300);
    // The config that saw the 429 has its limit cut for the whole fleet; the key itself is nowhere in Redis.
    const keys = await clients[0]!.keys('*');
    expect(await clients[0]!.hget(keys.find((k) => k.includes(':pace:limit:') && k.endsWith(':fleet-429'))!, 'limit')).toBe('3');
    expect(JSON.stringify(keys)).not.toContain('sk-');
  });
});
