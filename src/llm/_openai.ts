import type OpenAI from 'openai';
import type { LlmSettings } from '../config/index.ts';
import { isOpenAiReasoning } from './_capabilities.ts';
import type { Endpoint } from './_models.ts';
import type { Message, ToolCall, ToolSpec } from './_types.ts';
import { loadOpenAiSdk, openAiClient } from './_sdk.ts';
import { count, failureFromSdk, isRecord, malformed, type Transport, type WireResponse } from './_wire.ts';

/** OpenAI chat completions: OpenAI itself, Azure OpenAI, and every server that copies the format. */
export function openAiTransport(endpoint: Endpoint, settings: Partial<LlmSettings>, timeoutMs: number): Transport {
  // The SDK loads with the first call: commands that never call a model never pay for it.
  const connect = openAiClient(endpoint, timeoutMs, () => azureBaseUrl(endpoint.baseUrl));

  const params: Record<string, unknown> = {};
  // OpenAI's reasoning models refuse temperature and top_p: never sent, so no call fails for them.
  const reasoning = isOpenAiReasoning(endpoint.model);
  if (!reasoning && settings.temperature !== undefined) params.temperature = settings.temperature;
  if (!reasoning && settings.top_p !== undefined) params.top_p = settings.top_p;
  // top_k is no OpenAI parameter; vLLM, llama.cpp, Ollama, OpenRouter and Together take it.
  if (settings.top_k !== undefined && endpoint.provider === 'openai_compatible') params.top_k = settings.top_k;
  if (settings.seed !== undefined) params.seed = settings.seed;
  // Other OpenAI models refuse reasoning_effort; a compatible server is sent what the config asks.
  if (settings.reasoning_effort !== undefined && (reasoning || endpoint.provider === 'openai_compatible')) params.reasoning_effort = settings.reasoning_effort;
  if (settings.max_output_tokens !== undefined) {
    // OpenAI's reasoning models refuse max_tokens; many other servers know only max_tokens.
    params[endpoint.provider === 'openai_compatible' ? 'max_tokens' : 'max_completion_tokens'] = settings.max_output_tokens;
  }

  return {
    params,
    wireApi: 'chat',
    aliases: { temperature: [], top_p: [], top_k: [], seed: [], reasoning_effort: ['reasoning'], max_tokens: [], max_completion_tokens: [] },
    async send(request, signal, timeout) {
      const body: Record<string, unknown> = { model: endpoint.model, messages: request.messages.map(toOpenAi), ...request.params };
      // Several tool calls per answer are the API's default (parallel_tool_calls), left unsent for servers that do not know the field.
      if (request.tools && request.tools.length > 0) body.tools = request.tools.map(toTool);
      let raw: unknown;
      try {
        raw = await (await connect()).chat.completions.create(body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming, { signal, timeout });
      } catch (error) {
        throw failureFromSdk(error, await loadOpenAiSdk());
      }
      return parseChatCompletion(raw, endpoint.model);
    },
  };
}

/** The SDK appends `/openai/deployments/<name>/...`; accept endpoints written with or without `/openai`. */
function azureBaseUrl(endpoint: string): string {
  const trimmed = endpoint.replace(/\/+$/, '');
  if (/\/openai(\/|$)/.test(trimmed)) return trimmed;
  return `${trimmed}/openai`;
}

function toOpenAi(message: Message): Record<string, unknown> {
  if (message.role === 'tool') return { role: 'tool', tool_call_id: message.toolCallId ?? '', content: message.content };
  if (message.role === 'assistant' && message.toolCalls && message.toolCalls.length > 0) {
    return {
      role: 'assistant',
      content: message.content === '' ? null : message.content,
      tool_calls: message.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })),
    };
  }
  return { role: message.role, content: message.content };
}

function toTool(tool: ToolSpec): Record<string, unknown> {
  return { type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters } };
}

export function parseChatCompletion(raw: unknown, requested: string): WireResponse {
  if (!isRecord(raw) || !Array.isArray(raw.choices)) throw malformed('the response is not a chat completion', raw);
  const choice: unknown = raw.choices[0];
  const message = isRecord(choice) && isRecord(choice.message) ? choice.message : {};
  let text = '';
  if (typeof message.content === 'string') text = message.content;
  else if (Array.isArray(message.content)) {
    text = message.content.map((part: unknown) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join('');
  }
  const toolCalls: ToolCall[] = [];
  if (Array.isArray(message.tool_calls)) {
    message.tool_calls.forEach((call: unknown, index: number) => {
      if (!isRecord(call) || !isRecord(call.function) || typeof call.function.name !== 'string') return;
      const args = call.function.arguments;
      toolCalls.push({
        id: typeof call.id === 'string' && call.id ? call.id : `call_${index}`,
        name: call.function.name,
        arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
      });
    });
  }
  const usageKnown = isRecord(raw.usage) && typeof raw.usage.prompt_tokens === 'number';
  const usage = isRecord(raw.usage) ? raw.usage : {};
  const details = isRecord(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  // prompt_tokens already counts the cached part (OpenAI, DeepSeek, OpenRouter, LiteLLM all report it so).
  const cacheRead = count(details.cached_tokens) || count(usage.prompt_cache_hit_tokens);
  const cacheWrite = count(usage.cache_creation_input_tokens) || count(details.cache_write_tokens);
  return {
    text,
    toolCalls,
    usage: { input: count(usage.prompt_tokens), output: count(usage.completion_tokens), cacheRead, cacheWrite },
    usageKnown,
    model: typeof raw.model === 'string' && raw.model ? raw.model : requested,
    raw,
  };
}
