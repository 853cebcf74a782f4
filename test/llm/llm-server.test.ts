import { afterEach, describe, expect, test } from 'vitest';
import { startLlmServer, type LlmServer } from '../helpers/llm-server.ts';

let server: LlmServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: any }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, json: await response.json() };
}

describe('the scripted LLM server', () => {
  test('answers by a function of the request, in each provider\'s shape, and records every request', async () => {
    server = await startLlmServer((request) => (request.body.messages.length > 1 ? { kind: 'rate_limit', retryAfter: '4' } : { kind: 'success', text: `hi ${request.format}`, usage: { input: 50, output: 7, cacheRead: 20, cacheWrite: 10 } }));
    const openai = await post(`${server.openaiUrl}/chat/completions`, { model: 'm', messages: [{ role: 'user', content: 'x' }] }, { authorization: 'Bearer k1' });
    expect(openai.json.choices[0].message.content).toBe('hi openai');
    expect(openai.json.usage).toMatchObject({ prompt_tokens: 50, completion_tokens: 7, prompt_tokens_details: { cached_tokens: 20 } });
    const anthropic = await post(`${server.url}/v1/messages`, { model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(anthropic.json.content).toEqual([{ type: 'text', text: 'hi anthropic' }]);
    expect(anthropic.json.usage).toEqual({ input_tokens: 20, output_tokens: 7, cache_read_input_tokens: 20, cache_creation_input_tokens: 10 });
    const limited = await post(`${server.url}/v1/messages`, { model: 'm', messages: [{}, {}] });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('4');
    expect(limited.json).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: expect.any(String) } });
    expect(server.requests.map((r) => [r.format, r.path])).toEqual([['openai', '/v1/chat/completions'], ['anthropic', '/v1/messages'], ['anthropic', '/v1/messages']]);
    expect(server.requests[0]!.headers.authorization).toBe('Bearer k1');
  });

  test('waits its fixed latency before each reply and repeats the last queued reply', async () => {
    server = await startLlmServer([{ kind: 'server_error', status: 503 }], { latencyMs: 150 });
    const started = Date.now();
    const first = await post(`${server.openaiUrl}/chat/completions`, { model: 'm', messages: [] });
    const second = await post(`${server.openaiUrl}/chat/completions`, { model: 'm', messages: [] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect([first.status, second.status]).toEqual([503, 503]);
    expect(first.json.error.type).toBe('server_error');
    server.enqueue({ kind: 'quota' });
    expect((await post(`${server.openaiUrl}/chat/completions`, { model: 'm', messages: [] })).json.error.code).toBe('insufficient_quota');
  });

  test('closes while a request hangs', async () => {
    server = await startLlmServer([{ kind: 'hang' }]);
    const pending = fetch(`${server.openaiUrl}/chat/completions`, { method: 'POST', body: '{}' }).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await server.close();
    server = undefined;
    expect(await pending).toBeInstanceOf(Error);
  });
});
