import { calcPrice } from '@pydantic/genai-prices';
import { afterEach, describe, expect, test } from 'vitest';
import { createLlmClient, priceOf, wireApiOf, type Completion, type Message, type ResponseCache } from '../../src/llm/index.ts';
import { encryptedReasoning, startLlmServer, type LlmServer, type Reply } from '../helpers/llm-server.ts';
import { SECRET_KEY, llmConfig, recordingSleep } from './_fixtures.ts';
import { chatBody, startMockLlm, type MockLlm } from './_mock-llm.ts';

const open: (LlmServer | MockLlm)[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((server) => server.close()));
});

async function serve(script: Reply[]): Promise<LlmServer> {
  const server = await startLlmServer(script);
  open.push(server);
  return server;
}

const USER: Message[] = [{ role: 'system', content: 'You fix bugs.' }, { role: 'user', content: 'Fix it.' }];
const BASH = { name: 'bash', description: 'run a command', parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } };

describe('the OpenAI Responses API', () => {
  test('a Responses-only model is called at /responses, without sampling parameters, and its reasoning items go back with their turn', async () => {
    const server = await serve([
      { kind: 'success', reasoning: 'look at the parser first', toolCalls: [{ id: 'call_1', name: 'bash', arguments: { command: 'ls' } }, { id: 'call_2', name: 'bash', arguments: { command: 'pwd' } }], usage: { input: 100, output: 30, cacheRead: 40 } },
      { kind: 'success', reasoning: 'now fix it', text: 'Done.' },
    ]);
    const client = createLlmClient(llmConfig({ model: 'openai/gpt-5-codex', base_url: server.openaiUrl, api_key: SECRET_KEY, temperature: 0, top_p: 0.9, reasoning_effort: 'high', max_output_tokens: 2000 }));
    const first = await client.complete(USER, { tools: [BASH] });
    expect(first.wireApi).toBe('responses');
    expect(first.toolCalls.map((call) => [call.id, call.arguments])).toEqual([['call_1', '{"command":"ls"}'], ['call_2', '{"command":"pwd"}']]);
    expect(first.usage).toEqual({ input: 100, output: 30, cacheRead: 40, cacheWrite: 0 });
    expect(first.cost).toBeGreaterThan(0);

    const request = server.requests[0]!;
    expect(request.path).toBe('/v1/responses');
    expect(request.body).toMatchObject({
      model: 'gpt-5-codex', instructions: 'You fix bugs.', store: false, include: ['reasoning.encrypted_content'],
      reasoning: { effort: 'high' }, max_output_tokens: 2000, parallel_tool_calls: true,
      input: [{ role: 'user', content: 'Fix it.' }],
      tools: [{ type: 'function', name: 'bash', parameters: BASH.parameters }],
    });
    // Reasoning models refuse them: never sent, so no call fails for them and nothing is retried.
    expect(request.body.temperature).toBeUndefined();
    expect(request.body.top_p).toBeUndefined();
    expect(first.tries).toEqual([expect.objectContaining({ status: 'ok' })]);

    const history: Message[] = [
      ...USER,
      { role: 'assistant', content: first.text, toolCalls: first.toolCalls, carried: first.carried },
      { role: 'tool', toolCallId: 'call_1', content: 'README.md' },
      { role: 'tool', toolCallId: 'call_2', content: '/repo' },
    ];
    const second = await client.complete(history, { tools: [BASH] });
    expect(second.text).toBe('Done.');
    const input = server.requests[1]!.body.input;
    expect(input[1]).toEqual({ type: 'reasoning', id: 'rs_0', summary: [{ type: 'summary_text', text: 'look at the parser first' }], encrypted_content: encryptedReasoning('look at the parser first', 0) });
    expect(input.slice(2)).toEqual([
      { type: 'function_call', call_id: 'call_1', name: 'bash', arguments: '{"command":"ls"}' },
      { type: 'function_call', call_id: 'call_2', name: 'bash', arguments: '{"command":"pwd"}' },
      { type: 'function_call_output', call_id: 'call_1', output: 'README.md' },
      { type: 'function_call_output', call_id: 'call_2', output: '/repo' },
    ]);
  });

  test('wire_api chooses the API whatever the model: chat for a Responses-preferring model, responses for any other', async () => {
    const server = await serve([{ kind: 'success', text: 'ok' }]);
    await createLlmClient(llmConfig({ model: 'openai/o3', base_url: server.openaiUrl, api_key: SECRET_KEY, wire_api: 'chat', reasoning_effort: 'low', max_output_tokens: 100 })).complete(USER);
    await createLlmClient(llmConfig({ model: 'openai/gpt-4o', base_url: server.openaiUrl, api_key: SECRET_KEY, wire_api: 'responses' })).complete(USER);
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/responses']);
    // o3 over chat completions: reasoning_effort and max_completion_tokens, no temperature (the default 0 is not sent).
    expect(server.requests[0]!.body).toMatchObject({ reasoning_effort: 'low', max_tokens: 100 });
    expect(server.requests[0]!.body.temperature).toBeUndefined();
    // gpt-4o is no reasoning model: its temperature goes, and no reasoning fields.
    expect(server.requests[1]!.body).toMatchObject({ temperature: 0, store: false });
    expect(server.requests[1]!.body.include).toBeUndefined();
  });
});

describe('local servers', () => {
  test('an Ollama base_url given as the server\'s root, as OpenHands writes it, or with /v1 reaches /v1/chat/completions', async () => {
    const server = await serve([{ kind: 'success', text: 'ok' }]);
    for (const base_url of [server.url, `${server.url}/`, server.openaiUrl]) {
      const completion = await createLlmClient(llmConfig({ model: 'ollama/qwen2.5-coder:7b', base_url })).complete(USER);
      expect(completion.text).toBe('ok');
    }
    expect(server.requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/chat/completions', '/v1/chat/completions']);
    expect(server.requests[0]!.body.model).toBe('qwen2.5-coder:7b');
  });
});

describe('the wire API chosen for a model', () => {
  test('OpenAI\'s reasoning models on OpenAI and the Responses-only models anywhere speak Responses; the rest, and reasoning models elsewhere, chat', () => {
    expect(wireApiOf('openai', 'o3', {})).toBe('responses');
    expect(wireApiOf('openai', 'gpt-5', {})).toBe('responses');
    expect(wireApiOf('openai', 'gpt-4o', {})).toBe('chat');
    expect(wireApiOf('openai_compatible', 'gpt-5-codex', {})).toBe('responses');
    expect(wireApiOf('openai_compatible', 'o3', {})).toBe('chat');
    expect(wireApiOf('openai', 'o3', { wire_api: 'chat' })).toBe('chat');
    expect(wireApiOf('anthropic', 'claude-sonnet-4', { wire_api: 'responses' })).toBe('anthropic');
  });
});

describe('Anthropic extended thinking', () => {
  test('reasoning_effort becomes a thinking budget, sampling parameters it forbids are left out, and thinking blocks go back signed', async () => {
    const server = await serve([
      { kind: 'success', reasoning: 'the tests live in test/', toolCalls: [{ id: 'toolu_1', name: 'bash', arguments: { command: 'ls test' } }] },
      { kind: 'success', text: 'Done.' },
    ]);
    const client = createLlmClient(llmConfig({ model: 'anthropic/claude-sonnet-4-20250514', base_url: server.url, api_key: SECRET_KEY, reasoning_effort: 'medium', temperature: 0, top_k: 5, max_output_tokens: 1000 }));
    const first = await client.complete(USER, { tools: [BASH] });
    const body = server.requests[0]!.body;
    expect(body.thinking).toEqual({ type: 'enabled', budget_tokens: 2048 });
    expect(body.max_tokens).toBeGreaterThan(2048);
    expect(body.temperature).toBeUndefined();
    expect(body.top_k).toBeUndefined();
    await client.complete([...USER, { role: 'assistant', content: first.text, toolCalls: first.toolCalls, carried: first.carried }, { role: 'tool', toolCallId: 'toolu_1', content: 'a.test.js' }]);
    const assistant = server.requests[1]!.body.messages[1];
    expect(assistant.role).toBe('assistant');
    expect(assistant.content[0]).toEqual({ type: 'thinking', thinking: 'the tests live in test/', signature: encryptedReasoning('the tests live in test/', 0) });
    expect(assistant.content[1]).toMatchObject({ type: 'tool_use', id: 'toolu_1', name: 'bash', input: { command: 'ls test' } });
  });

  test('without reasoning_effort, Claude 4.5 gets temperature and not top_p (it refuses both together)', async () => {
    const server = await serve([{ kind: 'success', text: 'ok' }]);
    await createLlmClient(llmConfig({ model: 'anthropic/claude-sonnet-4-5', base_url: server.url, api_key: SECRET_KEY, temperature: 0.2, top_p: 0.9 })).complete(USER);
    expect(server.requests[0]!.body).toMatchObject({ temperature: 0.2 });
    expect(server.requests[0]!.body.top_p).toBeUndefined();
    expect(server.requests[0]!.body.thinking).toBeUndefined();
  });
});

describe('Ollama base URLs', () => {
  test.each([['without /v1', ''], ['with /v1', '/v1'], ['with a trailing slash', '/']])('a base_url %s reaches the OpenAI-compatible API', async (_label, suffix) => {
    const server = await serve([{ kind: 'success', text: 'ok' }]);
    await createLlmClient(llmConfig({ model: 'ollama/qwen2.5-coder:7b', base_url: `${server.url}${suffix}` })).complete(USER);
    expect(server.requests[0]!.path).toBe('/v1/chat/completions');
  });
});

describe('honest accounting', () => {
  test('a response without usage from a third-party OpenAI-compatible server (mock-llm) has an unknown cost, not $0', async () => {
    const mock = await startMockLlm([{ path: '/v1/chat/completions', match: '@', response: { status: 200, content: chatBody({ content: 'fixed' }) } }]);
    open.push(mock);
    const completion = await createLlmClient(llmConfig({ model: 'openai/gpt-4o-mini', base_url: mock.openaiUrl, api_key: SECRET_KEY })).complete(USER);
    expect(completion.text).toBe('fixed');
    expect(completion.usageKnown).toBe(false);
    expect(completion.cost).toBeNull();
  });

  test('the same from our scripted server; a config that says the model is free prices it at 0 all the same', async () => {
    const server = await serve([{ kind: 'success', text: 'ok', usage: null }]);
    const unknown = await createLlmClient(llmConfig({ model: 'openai/gpt-4o', base_url: server.openaiUrl, api_key: SECRET_KEY })).complete(USER);
    expect(unknown.cost).toBeNull();
    const free = await createLlmClient(llmConfig({ model: 'ollama/qwen', base_url: server.url, input_cost_per_token: 0, output_cost_per_token: 0 })).complete(USER);
    expect(free.cost).toBe(0);
  });

  test('a billed empty answer is retried and kept: its tokens and cost are on its try and in the call\'s total', async () => {
    const server = await serve([{ kind: 'empty', usage: { input: 1000, output: 200 } }, { kind: 'success', text: 'ok', usage: { input: 1000, output: 10 } }]);
    const { sleep } = recordingSleep();
    const settings = { model: 'openai/gpt-4o', base_url: server.openaiUrl, api_key: SECRET_KEY, num_retries: 2, input_cost_per_token: 0.000001, output_cost_per_token: 0.00001 };
    const completion = await createLlmClient(llmConfig(settings), { sleep }).complete(USER);
    expect(completion.tries.map((t) => t.errorClass ?? t.status)).toEqual(['empty_response', 'ok']);
    expect(completion.tries[0]).toMatchObject({ usage: { input: 1000, output: 200 } });
    expect(completion.tries[0]!.cost).toBeCloseTo(0.001 + 0.002, 12);
    expect(completion.usage).toMatchObject({ input: 2000, output: 210 });
    expect(completion.cost).toBeCloseTo(0.003 + 0.0011, 12);
  });

  test('prices are read at the call\'s time: DeepSeek\'s off-peak hours', () => {
    const usage = { input: 1_000_000, output: 0, cacheRead: 0, cacheWrite: 0 };
    const settings = { model: 'deepseek/deepseek-chat' };
    const peak = priceOf(settings, usage, { at: new Date(Date.UTC(2025, 5, 1, 3)) });
    const offPeak = priceOf(settings, usage, { at: new Date(Date.UTC(2025, 5, 1, 18)) });
    expect(peak).toBe(calcPrice({ input_tokens: 1_000_000, output_tokens: 0 }, 'deepseek-chat', { providerId: 'deepseek', timestamp: new Date(Date.UTC(2025, 5, 1, 3)) })!.total_price);
    expect(offPeak).not.toBe(peak);
  });

  test('an Azure deployment is priced as its base_model, or else as the model its response names', async () => {
    const server = await serve([{ kind: 'success', text: 'ok', usage: { input: 1000, output: 100 }, model: 'gpt-4o-2024-08-06' }]);
    const azure = (extra: Record<string, string>) => createLlmClient(llmConfig({ model: 'azure/prod-deployment', base_url: server.url, api_key: SECRET_KEY, api_version: '2024-10-21', ...extra }));
    const expected = calcPrice({ input_tokens: 1000, output_tokens: 100 }, 'gpt-4o', { providerId: 'azure' })!.total_price;
    expect((await azure({ base_model: 'azure/gpt-4o' }).complete(USER)).cost).toBeCloseTo(expected, 12);
    expect((await azure({}).complete(USER)).cost).toBeCloseTo(calcPrice({ input_tokens: 1000, output_tokens: 100 }, 'gpt-4o-2024-08-06', { providerId: 'azure' })!.total_price, 12);
  });

  test('two base URLs of one model never share a cache entry, nor do two parameter sets', async () => {
    const a = await serve([{ kind: 'success', text: 'from a' }]);
    const b = await serve([{ kind: 'success', text: 'from b' }]);
    const stored = new Map<string, Completion>();
    const cache: ResponseCache = { get: (key) => stored.get(key), set: (key, value) => void stored.set(key, value) };
    const client = (url: string, extra: Record<string, unknown> = {}) => createLlmClient(llmConfig({ model: 'openai/gpt-4o', base_url: url, api_key: SECRET_KEY, ...extra }), { cache });
    const fromA = await client(a.openaiUrl).complete(USER);
    const fromB = await client(b.openaiUrl).complete(USER);
    expect([fromA.text, fromB.text]).toEqual(['from a', 'from b']);
    expect(fromA.requestHash).not.toBe(fromB.requestHash);
    expect((await client(a.openaiUrl).complete(USER)).cached).toBe(true);
    const otherSeed = await client(a.openaiUrl, { seed: 7 }).complete(USER);
    expect(otherSeed.cached).toBe(false);
    expect([a.requests.length, b.requests.length]).toEqual([2, 1]);
  });
});
