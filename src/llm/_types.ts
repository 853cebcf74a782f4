export type ToolCall = { id: string; name: string; arguments: string };

export type Message = {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  toolCalls?: ToolCall[];
  toolCallId?: string;
  /**
   * An assistant turn's own items as the provider returned them (Responses API output items,
   * Anthropic content blocks with thinking), sent back verbatim so reasoning carries between turns.
   */
  carried?: unknown[];
};

export type ToolSpec = { name: string; description: string; parameters: Record<string, unknown> };

/**
 * Tokens of one billed call. `input` is the total prompt, cached tokens included (OpenAI's
 * `prompt_tokens`; for Anthropic `input_tokens + cache_read_input_tokens + cache_creation_input_tokens`),
 * so `cacheRead` and `cacheWrite` are parts of `input`, never added to it.
 */
export type Usage = { input: number; output: number; cacheRead: number; cacheWrite: number };

export type ErrorClass =
  | 'rate_limit' | 'connection' | 'timeout' | 'server_error' | 'empty_response'
  | 'auth' | 'bad_request' | 'context_window' | 'quota' | 'not_found';

export type TryRecord = {
  status: 'ok' | 'error';
  errorClass?: ErrorClass;
  httpStatus?: number;
  message?: string;
  /** The wait that followed this failed try, before the next one. */
  waitMs?: number;
  latencyMs: number;
  /** A failed try the provider billed (an empty answer with usage): its tokens and USD (null = unknown). */
  usage?: Usage;
  cost?: number | null;
};

/**
 * Paces one config's requests (its `max_concurrency`, and the provider account it shares with
 * others): `acquire` resolves when a request may be sent; the function it gives is called once
 * when that request ends, saying whether it was refused for the rate.
 */
export type Pacer = {
  acquire(signal?: AbortSignal): Promise<(ended: { rateLimited: boolean; retryAfterMs?: number }) => void>;
};

export type Completion = {
  text: string;
  toolCalls: ToolCall[];
  /** Tokens of the answer plus those of any billed failed try before it. */
  usage: Usage;
  /** False when the provider sent no usage: the tokens are not known, and neither is the cost. */
  usageKnown: boolean;
  /** USD of the answer and of every billed failed try; null when any of it is unknown (never 0 for unknown). */
  cost: number | null;
  /** Provider items to send back with this turn (see Message.carried). */
  carried?: unknown[];
  /** The wire API spoken: chat completions, the Responses API, or Anthropic messages. */
  wireApi: WireApi;
  /** When the answer arrived (ISO): the time its price was looked up for. */
  at: string;
  /** Time of the successful try only; retry sleeps excluded. */
  latencyMs: number;
  /** Every try, failed ones first. */
  tries: TryRecord[];
  model: string;
  provider: string;
  requestHash: string;
  cached: boolean;
  raw: unknown;
};

export type WireApi = 'chat' | 'responses' | 'anthropic';

export type CompleteOptions = {
  tools?: ToolSpec[];
  signal?: AbortSignal;
  /**
   * Called as a wait starts (a retry's back-off, a rate-limit pause or a free slot in the pacer);
   * the function it returns is called as the wait ends. Lets a caller keep waits off its own clock.
   */
  onPause?: () => () => void;
};

export interface LlmClient {
  readonly configName: string;
  /** The resolved model name (as configured), for reports and trajectories. */
  readonly model: string;
  /** The config's native_tool_calling, when set. */
  readonly nativeToolCalling?: boolean;
  /** Prompt tokens the model takes: max_input_tokens, else known from the model; undefined when unknown. */
  readonly maxInputTokens?: number;
  complete(messages: Message[], options?: CompleteOptions): Promise<Completion>;
}

/** Keyed by Completion.requestHash; a hit comes back as stored (its cost is the original call's) with `cached: true`. */
export type ResponseCache = {
  get(key: string): Completion | undefined;
  set(key: string, completion: Completion): void;
};

/** A call that failed for good: after its retries, or at once for errors retrying cannot fix. */
export class LlmError extends Error {
  readonly errorClass: ErrorClass;
  readonly tries: TryRecord[];
  readonly retryable: boolean;

  constructor(message: string, errorClass: ErrorClass, tries: TryRecord[], retryable: boolean) {
    super(message);
    this.name = 'LlmError';
    this.errorClass = errorClass;
    this.tries = tries;
    this.retryable = retryable;
  }
}
