import { calcPrice } from '@pydantic/genai-prices';
import { afterEach, describe, expect, test } from 'vitest';
import { createLlmClient, priceOf } from '../../src/llm/index.ts';
import { startLlmServer, type LlmServer } from '../helpers/llm-server.ts';
import { llmConfig } from './_fixtures.ts';

let server: LlmServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The library's published USD-per-million rates for a model, read through the library itself. */
function publishedRates(model: string, providerId: string): { input: number; output: number; cacheRead: number; cacheWrite?: number } {
  const result = calcPrice({ input_tokens: 1, output_tokens: 1 }, model, { providerId });
  if (!result) throw new Error(`no published price for ${model}`);
  const { input_mtok, output_mtok, cache_read_mtok, cache_write_mtok } = result.model_price;
  // These models have flat prices; a tiered one would need the tier arithmetic here.
  for (const rate of [input_mtok, output_mtok, cache_read_mtok]) expect(typeof rate).toBe('number');
  return { input: input_mtok as number, output: output_mtok as number, cacheRead: cache_read_mtok as number, cacheWrite: cache_write_mtok as number | undefined };
}

const prompt = [{ role: 'user' as const, content: 'fix the bug' }];

describe('cost of a call', () => {
  test('an OpenAI model is costed to the micro-dollar, cached prompt tokens at the cache rate', async () => {
    const rates = publishedRates('gpt-4o', 'openai');
    expect(rates.cacheRead).toBeLessThan(rates.input);
    server = await startLlmServer([{ kind: 'success', text: 'done', usage: { input: 12_000, output: 800, cacheRead: 10_000 } }]);
    const client = createLlmClient(llmConfig({ model: 'openai/gpt-4o', base_url: server.openaiUrl }), { env: {} });
    const completion = await client.complete(prompt);
    expect(completion.usage).toEqual({ input: 12_000, output: 800, cacheRead: 10_000, cacheWrite: 0 });
    const expected = (2_000 * rates.input + 10_000 * rates.cacheRead + 800 * rates.output) / 1e6;
    expect(completion.cost).toBeCloseTo(expected, 6);
    // Cached tokens charged once, not also at the full input rate.
    expect(completion.cost).toBeLessThan((12_000 * rates.input + 800 * rates.output) / 1e6 - 1e-6);
  });

  test('an Anthropic model is costed with cache reads and writes, which its input_tokens leaves out', async () => {
    const rates = publishedRates('claude-sonnet-4-20250514', 'anthropic');
    expect(typeof rates.cacheWrite).toBe('number');
    server = await startLlmServer([{ kind: 'success', text: 'done', usage: { input: 50_000, output: 2_000, cacheRead: 30_000, cacheWrite: 15_000 } }]);
    const client = createLlmClient(llmConfig({ model: 'anthropic/claude-sonnet-4-20250514', base_url: server.url, api_key: 'sk-ant-test-000000000' }), { env: {} });
    const completion = await client.complete(prompt);
    expect(server.requests[0]!.format).toBe('anthropic');
    expect(completion.usage).toEqual({ input: 50_000, output: 2_000, cacheRead: 30_000, cacheWrite: 15_000 });
    const expected = (5_000 * rates.input + 30_000 * rates.cacheRead + 15_000 * rates.cacheWrite! + 2_000 * rates.output) / 1e6;
    expect(completion.cost).toBeCloseTo(expected, 6);
  });

  test('a model with no known price costs null, never 0', async () => {
    server = await startLlmServer([{ kind: 'success', text: 'done', usage: { input: 100, output: 10 } }]);
    const client = createLlmClient(llmConfig({ model: 'my-local-coder', base_url: server.openaiUrl }), { env: {} });
    const completion = await client.complete(prompt);
    expect(completion.cost).toBeNull();
    expect(priceOf({ model: 'ollama/qwen2.5-coder' }, { input: 100, output: 10, cacheRead: 0, cacheWrite: 0 })).toBeNull();
    expect(priceOf({ model: 'openai/gpt-no-such-model' }, { input: 100, output: 10, cacheRead: 0, cacheWrite: 0 })).toBeNull();
  });
});

describe('priceOf', () => {
  const usage = { input: 1_000_000, output: 100_000, cacheRead: 400_000, cacheWrite: 0 };

  test('the config prices give an unknown model a cost', () => {
    const cost = priceOf({ model: 'hosted_vllm/qwen', input_cost_per_token: 0.2e-6, output_cost_per_token: 0.6e-6 }, usage);
    // No cache price configured: cached tokens cost what other input tokens cost.
    expect(cost).toBeCloseTo(1_000_000 * 0.2e-6 + 100_000 * 0.6e-6, 9);
    const withCache = priceOf({ model: 'hosted_vllm/qwen', input_cost_per_token: 0.2e-6, output_cost_per_token: 0.6e-6, cache_read_input_token_cost: 0.05e-6 }, usage);
    expect(withCache).toBeCloseTo(600_000 * 0.2e-6 + 400_000 * 0.05e-6 + 100_000 * 0.6e-6, 9);
  });

  test('a config price replaces the published one for that token kind only', () => {
    const rates = publishedRates('gpt-4o', 'openai');
    const cost = priceOf({ model: 'gpt-4o', output_cost_per_token: 1e-6 }, usage);
    expect(cost).toBeCloseTo((600_000 * rates.input + 400_000 * rates.cacheRead) / 1e6 + 100_000 * 1e-6, 9);
  });

  test('only an input or an output price is not enough to cost an unknown model', () => {
    expect(priceOf({ model: 'ollama/llama3', input_cost_per_token: 1e-6 }, usage)).toBeNull();
  });

  test('routes reach their provider in the price table', () => {
    const small = { input: 1000, output: 100, cacheRead: 0, cacheWrite: 0 };
    expect(priceOf({ model: 'deepseek/deepseek-chat' }, small)).toBeGreaterThan(0);
    expect(priceOf({ model: 'groq/llama-3.1-8b-instant' }, small)).toBeGreaterThan(0);
    expect(priceOf({ model: 'claude-3-5-haiku-20241022' }, small)).toBeGreaterThan(0);
  });
});
