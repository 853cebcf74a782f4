import type Anthropic from '@anthropic-ai/sdk';
import { loadAnthropicSdk, sharedSdkClient } from './_sdk.ts';
import type { LlmSettings } from '../config/index.ts';
import { THINKING_BUDGET, claudeTakesOneSampler } from './_capabilities.ts';
import type { Endpoint } from './_models.ts';
import type { Message, ToolCall } from './_types.ts';
import { lightFetch } from './_http.ts';
import { count, failureFromSdk, isRecord, malformed, splitBaseUrl, type Transport, type WireResponse } from './_wire.ts';

type Block = Record<string, unknown>;
type Turn = { role: 'user' | 'assistant'; content: Block[] };

/** Claude 3 (not 3.5 or later) stops at 4,096 output tokens; the API requires some limit. */
function defaultMaxTokens(model: string): number {
  return /claude-3-(opus|sonnet|haiku)/i.test(model) ? 4096 : 8192;
}

/** Anthropic Messages: the system prompt goes apart, tool results are user turns, caching is marked per block. */
export function anthropicTransport(endpoint: Endpoint, settings: Partial<LlmSettings>, timeoutMs: number): Transport {
  // The SDK loads with the first call: commands that never call a model never pay for it.
  let client: Promise<Anthropic> | undefined;
  const construction = {
    apiKey: endpoint.apiKey ?? 'no-key',
    // The SDK appends /v1/messages itself.
    ...(({ baseURL, defaultQuery }) => ({ baseURL: baseURL.replace(/\/+$/, '').replace(/\/v1$/, ''), defaultQuery }))(splitBaseUrl(endpoint.baseUrl)),
    maxRetries: 0,
    timeout: timeoutMs,
    fetch: lightFetch,
  };
  const connect = () => (client ??= sharedSdkClient('anthropic', construction, () => loadAnthropicSdk().then(({ default: Anthropic }) => new Anthropic(construction))));
  const caching = settings.caching_prompt ?? true;

  const maxTokens = settings.max_output_tokens ?? defaultMaxTokens(endpoint.model);
  const params: Record<string, unknown> = { max_tokens: maxTokens };
  // reasoning_effort turns on extended thinking with LiteLLM's budgets; its blocks are carried back each turn.
  const budget = settings.reasoning_effort ? THINKING_BUDGET[settings.reasoning_effort] : undefined;
  if (budget !== undefined) {
    params.thinking = { type: 'enabled', budget_tokens: budget };
    // The budget is part of max_tokens and must be below it.
    if (maxTokens <= budget) params.max_tokens = budget + maxTokens;
    // Thinking takes no temperature or top_k, and top_p only from 0.95 up.
    if (settings.top_p !== undefined && settings.top_p >= 0.95) params.top_p = settings.top_p;
  } else {
    if (settings.temperature !== undefined) params.temperature = settings.temperature;
    // Claude 4.1 and later refuse temperature and top_p together: temperature wins, as in LiteLLM.
    if (settings.top_p !== undefined && !(claudeTakesOneSampler(endpoint.model) && params.temperature !== undefined)) params.top_p = settings.top_p;
    if (settings.top_k !== undefined) params.top_k = settings.top_k;
  }

  return {
    params,
    wireApi: 'anthropic',
    aliases: { temperature: [], top_p: [], top_k: [], thinking: ['budget_tokens', 'reasoning_effort'] },
    async send(request, signal, timeout) {
      const { system, turns } = toAnthropic(request.messages, caching);
      const body: Record<string, unknown> = { model: endpoint.model, messages: turns, ...request.params };
      if (system.length > 0) body.system = system;
      if (request.tools && request.tools.length > 0) {
        body.tools = request.tools.map((tool) => ({ name: tool.name, description: tool.description, input_schema: tool.parameters }));
      }
      let raw: unknown;
      try {
        raw = await (await connect()).messages.create(body as unknown as Anthropic.MessageCreateParamsNonStreaming, { signal, timeout });
      } catch (error) {
        throw failureFromSdk(error, await loadAnthropicSdk());
      }
      return parseMessage(raw, endpoint.model);
    },
  };
}

export function toAnthropic(messages: Message[], caching: boolean): { system: Block[]; turns: Turn[] } {
  const system: Block[] = [];
  const turns: Turn[] = [];
  const add = (role: Turn['role'], blocks: Block[]) => {
    if (blocks.length === 0) return;
    const last = turns.at(-1);
    // Consecutive turns of one role become one: all tool results of a step must share a user turn.
    if (last && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };
  for (const message of messages) {
    if (message.role === 'system') {
      if (message.content) system.push({ type: 'text', text: message.content });
    } else if (message.role === 'tool') {
      add('user', [{ type: 'tool_result', tool_use_id: message.toolCallId ?? '', content: message.content || '(no output)' }]);
    } else if (message.role === 'assistant') {
      // The turn's own blocks, thinking and its signature included, as the API requires with tool use.
      if (message.carried && message.carried.length > 0) {
        add('assistant', (message.carried as Block[]).map((block) => ({ ...block })));
        continue;
      }
      const blocks: Block[] = [];
      if (message.content.trim()) blocks.push({ type: 'text', text: message.content.trimEnd() });
      for (const call of message.toolCalls ?? []) blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: parseArguments(call.arguments) });
      add('assistant', blocks);
    } else {
      add('user', [{ type: 'text', text: message.content || '(empty)' }]);
    }
  }
  if (caching) {
    // Two breakpoints: the stable system prompt, and everything up to the newest user turn.
    const lastSystem = system.at(-1);
    if (lastSystem) lastSystem.cache_control = { type: 'ephemeral' };
    const lastUser = turns.findLast((turn) => turn.role === 'user');
    const lastBlock = lastUser?.content.at(-1);
    if (lastBlock) lastBlock.cache_control = { type: 'ephemeral' };
  }
  return { system, turns };
}

function parseArguments(text: string): unknown {
  try {
    const value: unknown = JSON.parse(text || '{}');
    return isRecord(value) ? value : { value };
  } catch {
    return { arguments: text };
  }
}

export function parseMessage(raw: unknown, requested: string): WireResponse {
  if (!isRecord(raw) || !Array.isArray(raw.content)) throw malformed('the response is not an Anthropic message', raw);
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const block of raw.content as unknown[]) {
    if (!isRecord(block)) continue;
    if (block.type === 'text' && typeof block.text === 'string') text += block.text;
    if (block.type === 'tool_use' && typeof block.name === 'string') {
      toolCalls.push({ id: String(block.id ?? `toolu_${toolCalls.length}`), name: block.name, arguments: JSON.stringify(block.input ?? {}) });
    }
  }
  const usageKnown = isRecord(raw.usage) && typeof raw.usage.input_tokens === 'number';
  const usage = isRecord(raw.usage) ? raw.usage : {};
  const cacheRead = count(usage.cache_read_input_tokens);
  const cacheWrite = count(usage.cache_creation_input_tokens);
  return {
    text,
    toolCalls,
    // Anthropic's input_tokens leaves out cache reads and writes; Usage.input is the whole prompt.
    usage: { input: count(usage.input_tokens) + cacheRead + cacheWrite, output: count(usage.output_tokens), cacheRead, cacheWrite },
    usageKnown,
    // Thinking blocks must go back with the turn; plain turns are rebuilt from text and tool calls.
    ...((raw.content as unknown[]).some((block) => isRecord(block) && (block.type === 'thinking' || block.type === 'redacted_thinking')) ? { carried: raw.content as unknown[] } : {}),
    model: typeof raw.model === 'string' && raw.model ? raw.model : requested,
    raw,
  };
}
