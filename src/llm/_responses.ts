import type OpenAI from 'openai';
import type { LlmSettings } from '../config/index.ts';
import { isOpenAiReasoning } from './_capabilities.ts';
import type { Endpoint } from './_models.ts';
import type { Message, ToolCall, ToolSpec } from './_types.ts';
import { loadOpenAiSdk, openAiClient } from './_sdk.ts';
import { count, failureFromSdk, isRecord, malformed, type Transport, type WireResponse } from './_wire.ts';

type Item = Record<string, unknown>;

/**
 * OpenAI's Responses API (`POST /responses`): the only API of gpt-5-codex and gpt-5-pro, and the one
 * that carries a reasoning model's reasoning between turns. Nothing is stored at OpenAI (`store: false`);
 * reasoning items come back encrypted and are sent again verbatim with the turn they belong to.
 */
export function responsesTransport(endpoint: Endpoint, settings: Partial<LlmSettings>, timeoutMs: number): Transport {
  // The SDK loads with the first call: commands that never call a model never pay for it.
  const connect = openAiClient(endpoint, timeoutMs, () => `${endpoint.baseUrl.replace(/\/+$/, '').replace(/\/openai$/, '')}/openai`);
  const reasoning = isOpenAiReasoning(endpoint.model);

  const params: Record<string, unknown> = { store: false };
  // Reasoning models refuse sampling parameters: they are never sent, so no call fails for them.
  if (!reasoning && settings.temperature !== undefined) params.temperature = settings.temperature;
  if (!reasoning && settings.top_p !== undefined) params.top_p = settings.top_p;
  if (settings.max_output_tokens !== undefined) params.max_output_tokens = settings.max_output_tokens;
  if (reasoning) {
    params.include = ['reasoning.encrypted_content'];
    if (settings.reasoning_effort !== undefined) params.reasoning = { effort: settings.reasoning_effort };
  }

  return {
    params,
    wireApi: 'responses',
    aliases: { temperature: [], top_p: [], max_output_tokens: [], reasoning: ['reasoning.effort', 'reasoning_effort'], include: [] },
    async send(request, signal, timeout) {
      const { instructions, input } = toResponsesInput(request.messages);
      const body: Record<string, unknown> = { model: endpoint.model, input, ...request.params };
      if (instructions) body.instructions = instructions;
      if (request.tools && request.tools.length > 0) {
        body.tools = request.tools.map(toTool);
        body.parallel_tool_calls = true;
      }
      let raw: unknown;
      try {
        raw = await (await connect()).responses.create(body as unknown as OpenAI.Responses.ResponseCreateParamsNonStreaming, { signal, timeout });
      } catch (error) {
        throw failureFromSdk(error, await loadOpenAiSdk());
      }
      return parseResponse(raw, endpoint.model);
    },
  };
}

function toTool(tool: ToolSpec): Item {
  return { type: 'function', name: tool.name, description: tool.description, parameters: tool.parameters, strict: false };
}

/** System messages become `instructions`; an assistant turn is its own output items when it has them. */
export function toResponsesInput(messages: Message[]): { instructions: string; input: Item[] } {
  const instructions: string[] = [];
  const input: Item[] = [];
  for (const message of messages) {
    if (message.role === 'system') {
      instructions.push(message.content);
    } else if (message.role === 'tool') {
      input.push({ type: 'function_call_output', call_id: message.toolCallId ?? '', output: message.content || '(no output)' });
    } else if (message.role === 'assistant') {
      if (message.carried && message.carried.length > 0) {
        input.push(...(message.carried as Item[]).map(withoutItemId));
        continue;
      }
      if (message.content.trim()) input.push({ role: 'assistant', content: message.content });
      for (const call of message.toolCalls ?? []) input.push({ type: 'function_call', call_id: call.id, name: call.name, arguments: call.arguments });
    } else {
      input.push({ role: 'user', content: message.content || '(empty)' });
    }
  }
  return { instructions: instructions.join('\n\n'), input };
}

/** Unstored items cannot be referred to by id; reasoning items keep theirs, with their encrypted content. */
function withoutItemId(item: Item): Item {
  if (item.type === 'reasoning') return item;
  const { id: _id, status: _status, ...rest } = item;
  return rest;
}

export function parseResponse(raw: unknown, requested: string): WireResponse {
  if (!isRecord(raw) || !Array.isArray(raw.output)) throw malformed('the response is not a Responses API response', raw);
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const item of raw.output as unknown[]) {
    if (!isRecord(item)) continue;
    if (item.type === 'message' && Array.isArray(item.content)) {
      for (const part of item.content as unknown[]) if (isRecord(part) && part.type === 'output_text' && typeof part.text === 'string') text += part.text;
    }
    if (item.type === 'function_call' && typeof item.name === 'string') {
      toolCalls.push({ id: String(item.call_id ?? item.id ?? `call_${toolCalls.length}`), name: item.name, arguments: typeof item.arguments === 'string' ? item.arguments : JSON.stringify(item.arguments ?? {}) });
    }
  }
  const usage = isRecord(raw.usage) ? raw.usage : undefined;
  const details = usage && isRecord(usage.input_tokens_details) ? usage.input_tokens_details : {};
  return {
    text,
    toolCalls,
    // input_tokens counts the cached part, as chat completions' prompt_tokens does.
    usage: { input: count(usage?.input_tokens), output: count(usage?.output_tokens), cacheRead: count(details.cached_tokens), cacheWrite: 0 },
    usageKnown: usage !== undefined && typeof usage.input_tokens === 'number',
    carried: raw.output as unknown[],
    model: typeof raw.model === 'string' && raw.model ? raw.model : requested,
    raw,
  };
}
