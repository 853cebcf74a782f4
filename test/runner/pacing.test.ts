import { describe, expect, test } from 'vitest';
import { createLlmClient } from '../../src/llm/index.ts';
import { AdaptiveLimit, LocalPacing, decideOutcome, retryInfra } from '../../src/runner/index.ts';
import { startLlmServer } from '../helpers/llm-server.ts';
import { llmConfig } from '../llm/_fixtures.ts';

const env = {};

describe('local pacing', () => {
  test('max_concurrency bounds the calls in flight against a real server, not the episodes', async () => {
    let inFlight = 0;
    let peak = 0;
    const server = await startLlmServer(async () => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 40));
      inFlight--;
      return { kind: 'success', text: 'ok' };
    });
    try {
      const config = llmConfig({ model: 'openai/gpt-4o-mini', base_url: server.openaiUrl, api_key: 'sk-pacing', max_concurrency: 2 }, 'paced');
      const pacing = new LocalPacing();
      // Six episodes at once, each with its own client, as six attempts in flight would have.
      const clients = Array.from({ length: 6 }, () => createLlmClient(config, { env, pacer: pacing.pacerFor(config, env) }));
      await Promise.all(clients.map((client) => client.complete([{ role: 'user', content: 'hi' }])));
      expect(server.requests).toHaveLength(6);
      expect(peak).toBe(2);
    } finally {
      await server.close();
    }
  });

  test('a wait for an account paused by a 429, or for a full limit, ends as soon as its signal aborts', async () => {
    const pacing = new LocalPacing();
    const config = llmConfig({ model: 'openai/gpt-4o-mini', base_url: 'http://127.0.0.1:9/v1', api_key: 'sk-stop', max_concurrency: 1 }, 'stop');
    const pacer = pacing.pacerFor(config, env);
    const held = await pacer.acquire();
    const stop = new AbortController();
    const waiting = pacer.acquire(stop.signal);
    setTimeout(() => stop.abort(new Error('stopped')), 50);
    await expect(waiting).rejects.toThrow('stopped');
    held({ rateLimited: true, retryAfterMs: 60_000 });
    const paused = new AbortController();
    const started = performance.now();
    const pausedWait = pacer.acquire(paused.signal);
    setTimeout(() => paused.abort(new Error('stopped in the pause')), 50);
    await expect(pausedWait).rejects.toThrow('stopped in the pause');
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  test('a 429 on one config pauses every config on the same provider and key, and no other', async () => {
    const pacing = new LocalPacing();
    const base = { model: 'openai/gpt-4o-mini', base_url: 'http://127.0.0.1:9/v1', max_concurrency: 4 };
    const a = pacing.pacerFor(llmConfig({ ...base, api_key: 'sk-shared' }, 'a'), env);
    const b = pacing.pacerFor(llmConfig({ ...base, api_key: 'sk-shared', temperature: 0.7 }, 'b'), env);
    const other = pacing.pacerFor(llmConfig({ ...base, api_key: 'sk-other' }, 'c'), env);
    (await a.acquire())({ rateLimited: true, retryAfterMs: 300 });
    const started = performance.now();
    const otherWaited = (async () => { (await other.acquire())({ rateLimited: false }); return performance.now() - started; })();
    const sharedWaited = (async () => { (await b.acquire())({ rateLimited: false }); return performance.now() - started; })();
    expect(await otherWaited).toBeLessThan(100);
    expect(await sharedWaited).toBeGreaterThanOrEqual(250);
  });

  test('a 429 cuts a config\'s concurrency and successes bring it back to its maximum', () => {
    const pace = new AdaptiveLimit(5);
    pace.rateLimited();
    expect(pace.concurrency).toBe(4);
    pace.rateLimited();
    pace.rateLimited();
    expect(pace.concurrency).toBe(2);
    for (let i = 0; i < 5; i++) pace.succeeded();
    expect(pace.concurrency).toBe(3);
    for (let i = 0; i < 50; i++) pace.succeeded();
    expect(pace.concurrency).toBe(5);
    for (let i = 0; i < 20; i++) pace.rateLimited();
    expect(pace.concurrency).toBe(1);
  });
});

describe('the attempt\'s outcome and its infra retries', () => {
  test('one function decides the outcome: no episode or a grading failure is infra_error, the model\'s trouble beats the grade', () => {
    expect(decideOutcome(undefined, null, undefined)).toBe('infra_error');
    expect(decideOutcome({ exit: 'submitted' }, 'p', { outcome: 'infra_error' })).toBe('infra_error');
    expect(decideOutcome({ exit: 'model_error' }, 'p', { outcome: 'resolved' })).toBe('resolved');
    expect(decideOutcome({ exit: 'model_error' }, null, { outcome: 'empty_patch' })).toBe('model_error');
    expect(decideOutcome({ exit: 'malformed' }, 'p', { outcome: 'unresolved' })).toBe('malformed');
    expect(decideOutcome({ exit: 'format_errors' }, null, { outcome: 'empty_patch' })).toBe('malformed');
    expect(decideOutcome({ exit: 'format_errors' }, 'p', { outcome: 'unresolved' })).toBe('unresolved');
    expect(decideOutcome({ exit: 'submitted' }, 'p', { outcome: 'patch_failed' })).toBe('patch_failed');
  });

  test('an infra failure is retried up to the limit, and not once the run is stopping', async () => {
    let calls = 0;
    const failing = async () => ({ ok: ++calls > 5 });
    expect(await retryInfra(failing, (r) => !r.ok, { retries: 2 })).toEqual({ result: { ok: false }, retries: 2 });
    expect(calls).toBe(3);
    calls = 0;
    expect(await retryInfra(async () => ({ ok: ++calls > 1 }), (r) => !r.ok, { retries: 2 })).toEqual({ result: { ok: true }, retries: 1 });
    const stopping = AbortSignal.abort();
    calls = 0;
    expect((await retryInfra(failing, (r) => !r.ok, { retries: 2, signal: stopping })).retries).toBe(0);
  });
});
