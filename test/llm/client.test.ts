import { afterEach, describe, expect, test } from 'vitest';
import { LlmError, createLlmClient, type Completion, type Message, type ResponseCache, type ToolSpec } from '../../src/llm/index.ts';
import { apiKeyOf, startLlmServer, type LlmServer } from '../helpers/llm-server.ts';
import { SECRET_KEY, llmConfig, recordingSleep } from './_fixtures.ts';

let server: LlmServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const bashTool: ToolSpec = {
  name: 'bash',
  description: 'Run one shell command',
  parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] },
};

const conversation: Message[] = [
  { role: 'system', content: 'You fix bugs.' },
  { role: 'user', content: 'Tests fail in parser.py' },
  { role: 'assistant', content: 'Looking.', toolCalls: [{ id: 'call_a', name: 'bash', arguments: '{"command":"ls"}' }, { id: 'call_b', name: 'bash', arguments: '{"command":"pwd"}' }] },
  { role: 'tool', content: 'parser.py', toolCallId: 'call_a' },
  { role: 'tool', content: '/repo', toolCallId: 'call_b' },
  { role: 'user', content: 'Go on.' },
];

function mapCache(): ResponseCache & { entries: Map<string, Completion> } {
  const entries = new Map<string, Completion>();
  return { entries, get: (key) => entries.get(key), set: (key, completion) => void entries.set(key, completion) };
}

describe('OpenAI chat completions', () => {
  test('sends messages, tools, key and sampling parameters, and reads tool calls back', async () => {
    server = await startLlmServer([{ kind: 'success', text: '', toolCalls: [{ id: 'call_9', name: 'bash', arguments: { command: 'pytest -x' } }] }]);
    const client = createLlmClient(
      llmConfig({ model: 'openai/gpt-4o', base_url: server.openaiUrl, api_key: SECRET_KEY, temperature: 0.2, top_p: 0.9, top_k: 40, seed: 7, max_output_tokens: 512 }),
      { env: {} },
    );
    const completion = await client.complete(conversation, { tools: [bashTool] });
    expect(completion.toolCalls).toEqual([{ id: 'call_9', name: 'bash', arguments: '{"command":"pytest -x"}' }]);
    expect(completion).toMatchObject({ text: '', provider: 'openai', model: 'gpt-4o', cached: false });
    expect(completion.requestHash).toMatch(/^[0-9a-f]{64}$/);

    const request = server.requests[0]!;
    expect(request.path).toBe('/v1/chat/completions');
    expect(request.headers.authorization).toBe(`Bearer ${SECRET_KEY}`);
    expect(request.headers['x-stainless-retry-count']).toBe('0');
    expect(request.body).toMatchObject({ model: 'gpt-4o', temperature: 0.2, top_p: 0.9, seed: 7 });
    // An OpenAI-compatible server (base_url set) gets top_k and max_tokens.
    expect(request.body).toMatchObject({ top_k: 40, max_tokens: 512 });
    expect(request.body.tools).toEqual([{ type: 'function', function: { name: 'bash', description: bashTool.description, parameters: bashTool.parameters } }]);
    expect(request.body.messages).toEqual([
      { role: 'system', content: 'You fix bugs.' },
      { role: 'user', content: 'Tests fail in parser.py' },
      { role: 'assistant', content: 'Looking.', tool_calls: [
        { id: 'call_a', type: 'function', function: { name: 'bash', arguments: '{"command":"ls"}' } },
        { id: 'call_b', type: 'function', function: { name: 'bash', arguments: '{"command":"pwd"}' } },
      ] },
      { role: 'tool', tool_call_id: 'call_a', content: 'parser.py' },
      { role: 'tool', tool_call_id: 'call_b', content: '/repo' },
      { role: 'user', content: 'Go on.' },
    ]);
  });

  test('Azure calls the deployment URL with api-version and an api-key header', async () => {
    server = await startLlmServer([{ kind: 'success', text: 'hi' }, { kind: 'success', text: 'hi' }]);
    const config = llmConfig({ model: 'azure/my-gpt4o', base_url: server.url, api_version: '2024-10-21', api_key: SECRET_KEY, max_output_tokens: 100 });
    const completion = await createLlmClient(config, { env: {} }).complete([{ role: 'user', content: 'hi' }]);
    expect(completion.provider).toBe('azure');
    const request = server.requests[0]!;
    expect(request.path).toBe('/openai/deployments/my-gpt4o/chat/completions');
    expect(request.query).toEqual({ 'api-version': '2024-10-21' });
    expect(request.headers['api-key']).toBe(SECRET_KEY);
    expect(request.headers.authorization).toBeUndefined();
    expect(request.body).toMatchObject({ max_completion_tokens: 100 });
    // An endpoint written with /openai/ gives the same URL.
    await createLlmClient({ ...config, settings: { ...config.settings, base_url: `${server.url}/openai/` } }, { env: {} }).complete([{ role: 'user', content: 'hi' }]);
    expect(server.requests[1]!.path).toBe('/openai/deployments/my-gpt4o/chat/completions');
  });
});

describe('Anthropic messages', () => {
  test('splits out the system prompt, groups tool results, marks cache points and reads cache usage', async () => {
    server = await startLlmServer([{ kind: 'success', text: 'Patched.', toolCalls: [{ id: 'toolu_1', name: 'bash', arguments: '{"command":"git diff"}' }], usage: { input: 900, output: 30, cacheRead: 700, cacheWrite: 150 } }]);
    const client = createLlmClient(
      llmConfig({ model: 'anthropic/claude-sonnet-4-20250514', base_url: server.url, api_key: SECRET_KEY, top_k: 5, seed: 3 }),
      { env: {} },
    );
    const completion = await client.complete(conversation, { tools: [bashTool] });
    expect(completion).toMatchObject({ text: 'Patched.', provider: 'anthropic', usage: { input: 900, output: 30, cacheRead: 700, cacheWrite: 150 } });
    expect(completion.toolCalls).toEqual([{ id: 'toolu_1', name: 'bash', arguments: '{"command":"git diff"}' }]);

    const request = server.requests[0]!;
    expect(request.path).toBe('/v1/messages');
    expect(apiKeyOf(request)).toBe(SECRET_KEY);
    expect(request.headers['anthropic-version']).toBeDefined();
    expect(request.body).toMatchObject({ model: 'claude-sonnet-4-20250514', max_tokens: 8192, temperature: 0, top_k: 5 });
    expect(request.body.seed).toBeUndefined();
    expect(request.body.system).toEqual([{ type: 'text', text: 'You fix bugs.', cache_control: { type: 'ephemeral' } }]);
    expect(request.body.tools).toEqual([{ name: 'bash', description: bashTool.description, input_schema: bashTool.parameters }]);
    expect(request.body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'Tests fail in parser.py' }] },
      { role: 'assistant', content: [
        { type: 'text', text: 'Looking.' },
        { type: 'tool_use', id: 'call_a', name: 'bash', input: { command: 'ls' } },
        { type: 'tool_use', id: 'call_b', name: 'bash', input: { command: 'pwd' } },
      ] },
      { role: 'user', content: [
        { type: 'tool_result', tool_use_id: 'call_a', content: 'parser.py' },
        { type: 'tool_result', tool_use_id: 'call_b', content: '/repo' },
        { type: 'text', text: 'Go on.', cache_control: { type: 'ephemeral' } },
      ] },
    ]);
  });

  test('caching_prompt = false sends no cache markers', async () => {
    server = await startLlmServer([{ kind: 'success', text: 'ok' }]);
    const client = createLlmClient(llmConfig({ model: 'claude-3-haiku-20240307', base_url: server.url, api_key: SECRET_KEY, caching_prompt: false }), { env: {} });
    await client.complete(conversation);
    expect(server.requests[0]!.rawBody).not.toContain('cache_control');
    expect(server.requests[0]!.body.max_tokens).toBe(4096);
  });
});

describe('drop_params', () => {
  test('a parameter the server refuses is dropped and the request sent again, without using a retry', async () => {
    server = await startLlmServer([{ kind: 'unsupported_param', param: 'top_k' }, { kind: 'success', text: 'ok' }]);
    const { waits, sleep } = recordingSleep();
    const client = createLlmClient(llmConfig({ model: 'my-model', base_url: server.openaiUrl, top_k: 20, num_retries: 0 }), { env: {}, sleep });
    const completion = await client.complete([{ role: 'user', content: 'hi' }]);
    expect(completion.text).toBe('ok');
    expect(server.requests.map((r) => r.body.top_k)).toEqual([20, undefined]);
    expect(server.requests[1]!.body.temperature).toBe(0);
    expect(completion.tries.map((t) => t.errorClass ?? t.status)).toEqual(['bad_request', 'ok']);
    expect(completion.tries[0]!.message).toContain('without top_k');
    expect(waits).toEqual([]);
    // The client remembers: the next call does not send it again.
    await client.complete([{ role: 'user', content: 'again' }]);
    expect(server.requests).toHaveLength(3);
    expect(server.requests[2]!.body.top_k).toBeUndefined();
  });

  test('a refused max_tokens becomes max_completion_tokens', async () => {
    server = await startLlmServer([
      { kind: 'raw', status: 400, body: { error: { message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", type: 'invalid_request_error', param: 'max_tokens', code: 'unsupported_parameter' } } },
      { kind: 'success', text: 'ok' },
    ]);
    const client = createLlmClient(llmConfig({ model: 'my-model', base_url: server.openaiUrl, max_output_tokens: 64 }), { env: {} });
    await client.complete([{ role: 'user', content: 'hi' }]);
    expect(server.requests[1]!.body).toMatchObject({ max_completion_tokens: 64 });
    expect(server.requests[1]!.body.max_tokens).toBeUndefined();
  });

  test('Anthropic-shaped refusals are understood too', async () => {
    server = await startLlmServer([{ kind: 'unsupported_param', param: 'temperature' }, { kind: 'success', text: 'ok' }]);
    const client = createLlmClient(llmConfig({ model: 'anthropic/claude-opus-4-1', base_url: server.url, api_key: SECRET_KEY }), { env: {} });
    await client.complete([{ role: 'user', content: 'hi' }]);
    expect(server.requests.map((r) => r.body.temperature)).toEqual([0, undefined]);
  });

  test('with drop_params = false the refusal is a bad request, not retried', async () => {
    server = await startLlmServer([{ kind: 'unsupported_param', param: 'seed' }, { kind: 'success', text: 'ok' }]);
    const client = createLlmClient(llmConfig({ model: 'my-model', base_url: server.openaiUrl, seed: 1, drop_params: false }), { env: {} });
    const error = await client.complete([{ role: 'user', content: 'hi' }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmError);
    expect((error as LlmError).errorClass).toBe('bad_request');
    expect(server.requests).toHaveLength(1);
  });
});

describe('response cache', () => {
  test('a hit returns the stored completion without a request; a miss calls and stores', async () => {
    server = await startLlmServer([{ kind: 'success', text: 'first' }, { kind: 'success', text: 'second' }, { kind: 'success', text: 'third' }]);
    const cache = mapCache();
    const config = llmConfig({ model: 'gpt-4o', base_url: server.openaiUrl, api_key: SECRET_KEY });
    const client = createLlmClient(config, { env: {}, cache });
    const miss = await client.complete(conversation);
    expect(miss.cached).toBe(false);
    expect(cache.entries.get(miss.requestHash)?.text).toBe('first');

    const hit = await client.complete(conversation);
    expect(hit).toMatchObject({ text: 'first', cached: true, requestHash: miss.requestHash });
    expect(server.requests).toHaveLength(1);

    // Another key reaches the same entry: the key is no part of the hash.
    const otherKey = createLlmClient({ ...config, settings: { ...config.settings, api_key: 'sk-another-key-000000' } }, { env: {}, cache });
    expect((await otherKey.complete(conversation)).cached).toBe(true);
    expect(JSON.stringify([...cache.entries.values()])).not.toContain(SECRET_KEY);
  });

  test('the namespace, the messages and the sampling parameters each change the hash', async () => {
    server = await startLlmServer([{ kind: 'success', text: 'fresh' }]);
    const cache = mapCache();
    const config = llmConfig({ model: 'gpt-4o', base_url: server.openaiUrl });
    const first = await createLlmClient(config, { env: {}, cache, cacheNamespace: 'repeat-1' }).complete(conversation);
    const second = await createLlmClient(config, { env: {}, cache, cacheNamespace: 'repeat-2' }).complete(conversation);
    const warmer = await createLlmClient({ ...config, settings: { ...config.settings, temperature: 0.7 } }, { env: {}, cache, cacheNamespace: 'repeat-1' }).complete(conversation);
    const longer = await createLlmClient(config, { env: {}, cache, cacheNamespace: 'repeat-1' }).complete([...conversation, { role: 'user', content: 'more' }]);
    const hashes = new Set([first.requestHash, second.requestHash, warmer.requestHash, longer.requestHash]);
    expect(hashes.size).toBe(4);
    expect([first, second, warmer, longer].every((c) => !c.cached)).toBe(true);
    expect(server.requests).toHaveLength(4);
  });
});
