import { describe, expect, test } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { KNOWN_PROVIDERS, checkCredentials, createLlmClient, resolveModel } from '../../src/llm/index.ts';
import { llmConfig } from './_fixtures.ts';

function userError(run: () => unknown): UserError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return error as UserError;
  }
  throw new Error('expected a UserError');
}

describe('resolveModel', () => {
  test('LiteLLM prefixes choose the provider and are stripped from the name sent', () => {
    expect(resolveModel({ model: 'openai/gpt-4o' })).toMatchObject({ provider: 'openai', model: 'gpt-4o', priceModel: 'gpt-4o', route: 'openai' });
    expect(resolveModel({ model: 'anthropic/claude-sonnet-4-20250514' })).toMatchObject({ provider: 'anthropic', model: 'claude-sonnet-4-20250514' });
    expect(resolveModel({ model: 'azure/my-deployment' })).toMatchObject({ provider: 'azure', model: 'my-deployment' });
    expect(resolveModel({ model: 'deepseek/deepseek-chat' })).toMatchObject({ provider: 'openai_compatible', model: 'deepseek-chat', baseUrl: 'https://api.deepseek.com/v1', priceProvider: 'deepseek' });
    expect(resolveModel({ model: 'openrouter/anthropic/claude-3.5-haiku' })).toMatchObject({ provider: 'openai_compatible', model: 'anthropic/claude-3.5-haiku', priceProvider: 'openrouter' });
    expect(resolveModel({ model: 'together_ai/meta-llama/Llama-3-70b-chat-hf' })).toMatchObject({ model: 'meta-llama/Llama-3-70b-chat-hf', route: 'together_ai' });
    expect(resolveModel({ model: 'groq/llama-3.1-8b-instant' })).toMatchObject({ route: 'groq', model: 'llama-3.1-8b-instant' });
  });

  test('bare well-known names resolve to their maker', () => {
    for (const model of ['gpt-4o', 'gpt-4.1-mini', 'o1', 'o3-mini', 'o4-mini']) expect(resolveModel({ model }).provider).toBe('openai');
    expect(resolveModel({ model: 'claude-3-5-haiku-20241022' }).provider).toBe('anthropic');
  });

  test('local servers need no key and have no published price', () => {
    expect(resolveModel({ model: 'ollama/qwen2.5-coder:7b' })).toMatchObject({ keyless: true, priceProvider: null, baseUrl: 'http://localhost:11434/v1' });
    expect(resolveModel({ model: 'hosted_vllm/Qwen/Qwen2.5-Coder-32B', base_url: 'http://gpu-box:8000/v1' })).toMatchObject({ keyless: true, model: 'Qwen/Qwen2.5-Coder-32B' });
    expect(resolveModel({ model: 'openai/my-model', base_url: 'http://127.0.0.1:8000/v1' })).toMatchObject({ provider: 'openai_compatible', keyless: true });
  });

  test('a model with base_url and no known prefix is OpenAI-compatible, sent whole', () => {
    expect(resolveModel({ model: 'Qwen/Qwen2.5-Coder-32B-Instruct', base_url: 'https://llm.example.com/v1' }))
      .toMatchObject({ provider: 'openai_compatible', model: 'Qwen/Qwen2.5-Coder-32B-Instruct', keyless: false, priceProvider: null });
  });

  test('custom_llm_provider overrides the prefix', () => {
    expect(resolveModel({ model: 'my-finetune', custom_llm_provider: 'anthropic' })).toMatchObject({ provider: 'anthropic', model: 'my-finetune' });
    expect(resolveModel({ model: 'gpt-4o', custom_llm_provider: 'openrouter' })).toMatchObject({ route: 'openrouter', model: 'gpt-4o' });
  });

  test('an unknown provider prefix is a user error listing the known ones', () => {
    const error = userError(() => resolveModel({ model: 'openia/gpt-4o' }, 'fast'));
    expect(error.message).toContain("'fast'");
    expect(error.message).toContain('"openia"');
    for (const known of ['openai', 'anthropic', 'azure', 'deepseek', 'openrouter', 'ollama', 'hosted_vllm']) expect(error.message).toContain(known);
    expect(KNOWN_PROVIDERS).toContain('together_ai');
    expect(userError(() => resolveModel({ model: 'llama3' })).message).toContain('cannot tell its provider');
    expect(userError(() => resolveModel({ model: 'x', custom_llm_provider: 'nope' })).message).toContain('custom_llm_provider');
  });
});

describe('checkCredentials', () => {
  test('a missing key names the config and the variable to set', () => {
    const error = userError(() => checkCredentials(llmConfig({ model: 'anthropic/claude-sonnet-4-20250514' }, 'claude'), {}));
    expect(error.message).toContain("LLM config 'claude'");
    expect(error.message).toContain('ANTHROPIC_API_KEY');
    expect(error.message).toContain('[llm.claude]');
    expect(userError(() => checkCredentials(llmConfig({ model: 'deepseek/deepseek-chat' }), {})).message).toContain('DEEPSEEK_API_KEY');
    expect(userError(() => checkCredentials(llmConfig({ model: 'openrouter/x/y' }), {})).message).toContain('OPENROUTER_API_KEY');
  });

  test('the config key or the provider variable satisfies it', () => {
    expect(() => checkCredentials(llmConfig({ model: 'gpt-4o', api_key: 'sk-from-config-0000' }), {})).not.toThrow();
    expect(() => checkCredentials(llmConfig({ model: 'gpt-4o' }), { OPENAI_API_KEY: 'sk-from-env-00000' })).not.toThrow();
    // Another provider's variable is not this provider's key.
    expect(() => checkCredentials(llmConfig({ model: 'gpt-4o' }), { ANTHROPIC_API_KEY: 'sk-ant-000000000' })).toThrow(UserError);
  });

  test('local servers need no key', () => {
    expect(() => checkCredentials(llmConfig({ model: 'ollama/llama3' }), {})).not.toThrow();
    expect(() => checkCredentials(llmConfig({ model: 'hosted_vllm/m', base_url: 'http://10.0.0.5:8000/v1' }), {})).not.toThrow();
    expect(() => checkCredentials(llmConfig({ model: 'my-model', base_url: 'http://localhost:8080/v1' }), {})).not.toThrow();
  });

  test('a remote OpenAI-compatible server never borrows OPENAI_API_KEY', () => {
    const error = userError(() => checkCredentials(llmConfig({ model: 'my-model', base_url: 'https://llm.example.com/v1' }), { OPENAI_API_KEY: 'sk-openai-0000000' }));
    expect(error.message).toContain('api_key');
  });

  test('Azure needs an endpoint and an API version', () => {
    const key = { AZURE_API_KEY: 'azure-key-0000000000' };
    expect(userError(() => checkCredentials(llmConfig({ model: 'azure/gpt4o', api_version: '2024-10-21' }), key)).message).toContain('base_url');
    expect(userError(() => checkCredentials(llmConfig({ model: 'azure/gpt4o', base_url: 'https://r.openai.azure.com' }), key)).message).toContain('api_version');
    expect(() => checkCredentials(llmConfig({ model: 'azure/gpt4o' }), { ...key, AZURE_API_BASE: 'https://r.openai.azure.com', AZURE_API_VERSION: '2024-10-21' })).not.toThrow();
  });

  test('creating a client checks the same things', () => {
    expect(() => createLlmClient(llmConfig({ model: 'gpt-4o' }), { env: {} })).toThrow(/OPENAI_API_KEY/);
  });
});
