import { calcPrice } from '@pydantic/genai-prices';
import type { LlmSettings } from '../config/index.ts';
import type { Provider, ResolvedModel } from './_models.ts';
import type { WireApi } from './_types.ts';

/**
 * What a model accepts, from its name: the providers' documented families, the way LiteLLM's
 * model map marks `mode`, `supported_endpoints` and `supports_reasoning`.
 */

/** The bare model name: `openrouter/openai/o3-mini` and `o3-mini` are both `o3-mini`. */
function bare(model: string): string {
  return model.slice(model.lastIndexOf('/') + 1).toLowerCase();
}

// Served by /v1/responses alone: gpt-5-codex, gpt-5.1-codex-mini, gpt-5-pro, o1-pro, o3-pro, codex-mini-latest.
const RESPONSES_ONLY = /^(gpt-5(\.\d+)?-(codex|pro)|o[13]-pro|codex-)/;
// OpenAI reasoning models (o-series, the gpt-5 family but its chat variants): no temperature or top_p.
const OPENAI_REASONING = /^(o[1-9](-|$)|gpt-5(?!(\.\d+)?-chat))/;
// Claude 4.1 and later accept temperature or top_p, never both.
const CLAUDE_ONE_SAMPLER = /^claude-(opus|sonnet|haiku)-(4-[1-9]|[5-9])/;

export function isOpenAiReasoning(model: string): boolean {
  return OPENAI_REASONING.test(bare(model));
}

export function isResponsesOnly(model: string): boolean {
  return RESPONSES_ONLY.test(bare(model));
}

export function claudeTakesOneSampler(model: string): boolean {
  return CLAUDE_ONE_SAMPLER.test(bare(model));
}

/**
 * The wire API for a model: `wire_api` when the config sets it; else the Responses API for OpenAI's
 * models that are served only there, and for its reasoning models (their reasoning items carry
 * between turns only there); chat completions for everything else.
 */
export function wireApiOf(provider: Provider, model: string, settings: Partial<LlmSettings>): WireApi {
  if (provider === 'anthropic') return 'anthropic';
  if (settings.wire_api) return settings.wire_api;
  if (isResponsesOnly(model)) return 'responses';
  if (provider === 'openai' && isOpenAiReasoning(model)) return 'responses';
  return 'chat';
}

/** Anthropic's thinking budget for each reasoning_effort, as LiteLLM maps it. */
export const THINKING_BUDGET: Record<string, number> = { minimal: 1024, low: 1024, medium: 2048, high: 4096 };

/** Tokens of prompt the model takes: `max_input_tokens` when set, else the price table's context window less the answer's room. */
export function maxInputTokensOf(resolved: Pick<ResolvedModel, 'priceModel' | 'priceProvider'>, settings: Partial<LlmSettings>): number | undefined {
  if (settings.max_input_tokens !== undefined) return settings.max_input_tokens;
  const window = contextWindowOf(settings.base_model ?? resolved.priceModel, resolved.priceProvider);
  if (window === undefined) return undefined;
  const answer = Math.min(settings.max_output_tokens ?? 4096, Math.floor(window / 4));
  return window - answer;
}

/** The bundled price table never changes in a process: each model's window is looked up once (a client is made per attempt). */
const windows = new Map<string, number | undefined>();

function contextWindowOf(model: string, provider: string | null): number | undefined {
  if (!provider) return undefined;
  const key = `${provider}\0${model}`;
  if (!windows.has(key)) {
    let window: number | undefined;
    try {
      window = calcPrice({ input_tokens: 0, output_tokens: 0 }, model, { providerId: provider })?.model.context_window;
    } catch {
      window = undefined;
    }
    windows.set(key, window);
  }
  return windows.get(key);
}
