import { afterEach, describe, expect, test } from 'vitest';
import { LlmError, createLlmClient, retryWaitMs, type TryRecord } from '../../src/llm/index.ts';
import { startLlmServer, type LlmServer, type Script } from '../helpers/llm-server.ts';
import { SECRET_KEY, llmConfig, recordingSleep } from './_fixtures.ts';
import type { LlmSettings } from '../../src/config/index.ts';

let server: LlmServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const hello = [{ role: 'user' as const, content: 'hello' }];

async function openAiClient(script: Script, settings: Partial<LlmSettings> = {}) {
  server = await startLlmServer(script);
  const { waits, sleep } = recordingSleep();
  const seen: TryRecord[] = [];
  const client = createLlmClient(
    llmConfig({ model: 'openai/gpt-4o', base_url: server.openaiUrl, api_key: SECRET_KEY, ...settings }),
    { env: {}, sleep, onTry: (record) => seen.push(record) },
  );
  return { client, waits, seen, server };
}

async function failure(promise: Promise<unknown>): Promise<LlmError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(LlmError);
    return error as LlmError;
  }
  throw new Error('expected the call to fail');
}

describe('retryWaitMs', () => {
  test('grows as multiplier * 2^(n-1), clamped to the min and max waits, with at most 10% jitter', () => {
    const settings = { retry_multiplier: 2, retry_min_wait: 3, retry_max_wait: 40 };
    const expected = [3, 4, 8, 16, 32, 40, 40];
    for (let n = 1; n <= expected.length; n++) {
      for (let sample = 0; sample < 20; sample++) {
        const wait = retryWaitMs(n, settings);
        expect(wait).toBeGreaterThanOrEqual(expected[n - 1]! * 1000);
        expect(wait).toBeLessThanOrEqual(Math.min(expected[n - 1]! * 1100, 40_000));
      }
    }
  });

  test('uses the documented defaults: 15 s to 120 s', () => {
    expect(retryWaitMs(1, {})).toBeGreaterThanOrEqual(15_000);
    expect(retryWaitMs(1, {})).toBeLessThanOrEqual(16_500);
    expect(retryWaitMs(10, {})).toBe(120_000);
  });

  test('honours Retry-After in seconds or as an HTTP date, capped by retry_max_wait', () => {
    const settings = { retry_min_wait: 15, retry_max_wait: 60 };
    expect(retryWaitMs(1, settings, '7')).toBe(7_000);
    expect(retryWaitMs(1, settings, '0.5')).toBe(500);
    expect(retryWaitMs(1, settings, '3600')).toBe(60_000);
    const inThirty = new Date(Date.now() + 30_000).toUTCString();
    const wait = retryWaitMs(1, settings, inThirty);
    expect(wait).toBeGreaterThan(28_000);
    expect(wait).toBeLessThanOrEqual(30_000);
    expect(retryWaitMs(1, settings, new Date(Date.now() + 3_600_000).toUTCString())).toBe(60_000);
    expect(retryWaitMs(1, { retry_min_wait: 15, retry_max_wait: 15 }, 'soon')).toBe(15_000);
  });
});

describe('retries against a live server', () => {
  test('retries 429s and 5xx, then succeeds; the waits follow the backoff', async () => {
    const { client, waits, seen, server } = await openAiClient(
      [{ kind: 'rate_limit' }, { kind: 'server_error', status: 503 }, { kind: 'server_error' }, { kind: 'success', text: 'fixed' }],
      { num_retries: 5, retry_multiplier: 1, retry_min_wait: 1, retry_max_wait: 100 },
    );
    const completion = await client.complete(hello);
    expect(completion.text).toBe('fixed');
    expect(server.requests).toHaveLength(4);
    expect(completion.tries.map((t) => t.errorClass ?? t.status)).toEqual(['rate_limit', 'server_error', 'server_error', 'ok']);
    expect(completion.tries.map((t) => t.httpStatus)).toEqual([429, 503, 500, undefined]);
    expect(seen).toEqual(completion.tries);
    expect(waits).toHaveLength(3);
    [1, 2, 4].forEach((seconds, i) => {
      expect(waits[i]).toBeGreaterThanOrEqual(seconds * 1000);
      expect(waits[i]).toBeLessThanOrEqual(seconds * 1100);
      expect(completion.tries[i]!.waitMs).toBe(waits[i]);
    });
  });

  test('onTry reports each failed try before its wait starts', async () => {
    server = await startLlmServer([{ kind: 'rate_limit', retryAfter: '2' }, { kind: 'success', text: 'ok' }]);
    const events: string[] = [];
    const client = createLlmClient(llmConfig({ model: 'gpt-4o', base_url: server.openaiUrl }), {
      env: {},
      onTry: (record) => events.push(`try ${record.errorClass ?? record.status} wait ${record.waitMs ?? '-'}`),
      sleep: async (ms) => void events.push(`sleep ${ms}`),
    });
    await client.complete(hello);
    expect(events).toEqual(['try rate_limit wait 2000', 'sleep 2000', 'try ok wait -']);
  });

  test('gives up after num_retries retries with the last error class', async () => {
    const { client, waits, server } = await openAiClient([{ kind: 'server_error', status: 502 }], { num_retries: 2, retry_min_wait: 0, retry_max_wait: 0 });
    const error = await failure(client.complete(hello));
    expect(server.requests).toHaveLength(3);
    expect(waits).toEqual([0, 0]);
    expect(error.errorClass).toBe('server_error');
    expect(error.retryable).toBe(true);
    expect(error.tries).toHaveLength(3);
    expect(error.message).toContain("LLM config 'test'");
  });

  test('waits what Retry-After says, seconds or HTTP date, never above retry_max_wait', async () => {
    const date = new Date(Date.now() + 20_000).toUTCString();
    const { client, waits } = await openAiClient(
      [{ kind: 'rate_limit', retryAfter: '7' }, { kind: 'rate_limit', retryAfter: '900' }, { kind: 'rate_limit', retryAfter: date }, { kind: 'success', text: 'ok' }],
      { retry_min_wait: 1, retry_max_wait: 30 },
    );
    await client.complete(hello);
    expect(waits[0]).toBe(7_000);
    expect(waits[1]).toBe(30_000);
    expect(waits[2]).toBeGreaterThan(17_000);
    expect(waits[2]).toBeLessThanOrEqual(20_000);
  });

  test.each([
    ['auth', { kind: 'auth' }, 'auth', 401],
    ['bad request', { kind: 'raw', status: 400, body: { error: { message: 'messages: invalid role', type: 'invalid_request_error', code: null } } }, 'bad_request', 400],
    ['context overflow', { kind: 'context_length' }, 'context_window', 400],
    ['unknown model', { kind: 'not_found' }, 'not_found', 404],
    ['exhausted quota (a 429 that fails fast)', { kind: 'quota' }, 'quota', 429],
  ] as const)('%s is not retried', async (_name, reply, errorClass, status) => {
    const { client, waits, server } = await openAiClient([reply, { kind: 'success', text: 'never reached' }], { drop_params: false });
    const error = await failure(client.complete(hello));
    expect(error.errorClass).toBe(errorClass);
    expect(error.retryable).toBe(false);
    expect(error.tries).toEqual([expect.objectContaining({ status: 'error', errorClass, httpStatus: status })]);
    expect(server.requests).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  test('the same errors in Anthropic shape classify the same way', async () => {
    server = await startLlmServer([{ kind: 'quota' }, { kind: 'context_length' }, { kind: 'server_error', status: 529 }, { kind: 'success', text: 'ok' }]);
    const client = createLlmClient(
      llmConfig({ model: 'anthropic/claude-sonnet-4-20250514', base_url: server.url, api_key: SECRET_KEY, retry_min_wait: 0, retry_max_wait: 0 }),
      { env: {}, sleep: recordingSleep().sleep },
    );
    expect((await failure(client.complete(hello))).errorClass).toBe('quota');
    expect((await failure(client.complete(hello))).errorClass).toBe('context_window');
    const completion = await client.complete(hello);
    expect(completion.tries.map((t) => t.errorClass ?? t.status)).toEqual(['server_error', 'ok']);
  });

  test('a try that outlives timeout is cut off and retried', async () => {
    const { client, server } = await openAiClient([{ kind: 'hang' }, { kind: 'success', text: 'late but fine', delayMs: 10 }], { timeout: 0.3, num_retries: 1 });
    const started = Date.now();
    const completion = await client.complete(hello);
    expect(completion.text).toBe('late but fine');
    expect(completion.tries[0]).toMatchObject({ status: 'error', errorClass: 'timeout' });
    expect(completion.tries[0]!.latencyMs).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(server.requests).toHaveLength(2);
  });

  test('latency counts the successful try only, not earlier tries or sleeps', async () => {
    server = await startLlmServer([{ kind: 'server_error', delayMs: 300 }, { kind: 'success', text: 'ok', delayMs: 20 }]);
    const client = createLlmClient(
      llmConfig({ model: 'gpt-4o', base_url: server.openaiUrl, api_key: SECRET_KEY, retry_min_wait: 0.2, retry_max_wait: 0.2 }),
      { env: {} },
    );
    const completion = await client.complete(hello);
    expect(completion.latencyMs).toBeGreaterThanOrEqual(15);
    expect(completion.latencyMs).toBeLessThan(250);
    expect(completion.tries[0]!.waitMs).toBe(200);
  });

  test('malformed JSON is retried, then fails as a server error', async () => {
    const { client, server } = await openAiClient([{ kind: 'malformed' }], { num_retries: 2, retry_min_wait: 0, retry_max_wait: 0 });
    const error = await failure(client.complete(hello));
    expect(server.requests).toHaveLength(3);
    expect(error.errorClass).toBe('server_error');
    expect(error.tries.every((t) => t.errorClass === 'server_error' && /JSON/.test(t.message ?? ''))).toBe(true);
  });

  test('an empty response is retried', async () => {
    const { client } = await openAiClient([{ kind: 'empty' }, { kind: 'success', text: 'second time' }], { retry_min_wait: 0, retry_max_wait: 0 });
    const completion = await client.complete(hello);
    expect(completion.tries.map((t) => t.errorClass ?? t.status)).toEqual(['empty_response', 'ok']);
  });

  test('a refused connection is retried as a connection error', async () => {
    const { client, server } = await openAiClient([{ kind: 'success', text: 'x' }], { num_retries: 1, retry_min_wait: 0, retry_max_wait: 0 });
    await server.close();
    const error = await failure(client.complete(hello));
    expect(error.errorClass).toBe('connection');
    expect(error.tries).toHaveLength(2);
  });

  test('the api key never appears in an error, even when the server echoes it', async () => {
    const { client } = await openAiClient([{ kind: 'auth', echoKey: true }]);
    const error = await failure(client.complete(hello));
    expect(error.errorClass).toBe('auth');
    expect(error.message).not.toContain(SECRET_KEY);
    expect(error.message).toContain('...7890');
    expect(JSON.stringify(error.tries)).not.toContain(SECRET_KEY);
    expect(String(error.stack)).not.toContain(SECRET_KEY);
  });

  test('an abort from the caller stops retrying at once and is not wrapped', async () => {
    server = await startLlmServer([{ kind: 'rate_limit' }]);
    const controller = new AbortController();
    const client = createLlmClient(
      llmConfig({ model: 'gpt-4o', base_url: server.openaiUrl, api_key: SECRET_KEY }),
      { env: {}, onTry: () => controller.abort(new Error('stop now')) },
    );
    await expect(client.complete(hello, { signal: controller.signal })).rejects.toThrow('stop now');
    expect(server.requests).toHaveLength(1);
  });
});

describe('URLs no retry can fix', () => {
  // The config loader refuses such base_urls; a client built from another source must still not retry them.
  test.each([
    ['an unknown scheme', 'ftp://models.example.invalid/v1'],
    ['no scheme at all', 'localhost:8000/v1'],
    ['a URL that cannot be parsed', 'http://[not-a-host'],
  ])('%s fails on the first try, without a retry wait', async (_what, baseUrl) => {
    const { sleep, waits } = recordingSleep();
    const client = createLlmClient(llmConfig({ model: 'openai/gpt-4o', base_url: baseUrl, api_key: SECRET_KEY, num_retries: 8 }), { env: {}, sleep });
    const error = await failure(client.complete(hello));
    expect(error.tries).toHaveLength(1);
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/not retried/);
    expect(waits).toEqual([]);
  });
});
