import { createHash } from 'node:crypto';
import pRetry, { AbortError } from 'p-retry';
import { redact, type ResolvedLlmConfig } from '../config/index.ts';
import { anthropicTransport } from './_anthropic.ts';
import { maxInputTokensOf, wireApiOf } from './_capabilities.ts';
import { FailedTry, classify, rejectedParameter } from './_errors.ts';
import { resolveEndpoint, type Endpoint } from './_models.ts';
import { openAiTransport } from './_openai.ts';
import { priceOf } from './_price.ts';
import { responsesTransport } from './_responses.ts';
import { parseRetryAfter, retryPolicy, retryWaitMs, sleep as realSleep } from './_retry.ts';
import { LlmError, type CompleteOptions, type Completion, type LlmClient, type Message, type Pacer, type ResponseCache, type ToolSpec, type TryRecord, type Usage } from './_types.ts';
import type { Transport, WireResponse } from './_wire.ts';

export type LlmClientOptions = {
  env?: NodeJS.ProcessEnv;
  cache?: ResponseCache;
  /** Separates otherwise equal requests, e.g. `repeat-2` for the second sample of one task. */
  cacheNamespace?: string;
  /** Called for every try as it ends, before any wait: lets the runner's pacing see 429s as they happen. */
  onTry?: (tryRecord: TryRecord) => void;
  /** Waited on before each request is sent, and told when it ends. */
  pacer?: Pacer;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
};

/** A failed try that will be retried after `waitMs`. */
class RetryLater extends Error {
  readonly waitMs: number;
  constructor(message: string, waitMs: number) {
    super(message);
    this.waitMs = waitMs;
  }
}

/** Stable JSON: object keys sorted, so equal requests hash equal. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * sha256 of everything that decides the answer: where the request goes (provider, base_url,
 * api_version, wire API), the model, every request parameter as sent, the messages and tools.
 * Never the key or the retry settings.
 */
function hashRequest(endpoint: Endpoint, transport: Transport, messages: Message[], tools: ToolSpec[] | undefined, namespace: string | undefined): string {
  const request = {
    provider: endpoint.route, baseUrl: endpoint.baseUrl.replace(/\/+$/, ''), apiVersion: endpoint.apiVersion ?? '', wireApi: transport.wireApi,
    model: endpoint.model, params: transport.params, messages, tools: tools ?? [], namespace: namespace ?? '',
  };
  return createHash('sha256').update(canonical(request)).digest('hex');
}

function addUsage(a: Usage, b: Usage): Usage {
  return { input: a.input + b.input, output: a.output + b.output, cacheRead: a.cacheRead + b.cacheRead, cacheWrite: a.cacheWrite + b.cacheWrite };
}

function chooseTransport(endpoint: Endpoint, settings: ResolvedLlmConfig['settings'], timeoutMs: number): Transport {
  const wire = wireApiOf(endpoint.provider, endpoint.model, settings);
  if (wire === 'anthropic') return anthropicTransport(endpoint, settings, timeoutMs);
  if (wire === 'responses') return responsesTransport(endpoint, settings, timeoutMs);
  return openAiTransport(endpoint, settings, timeoutMs);
}

/** Runs a wait between the caller's pause and resume, so the wait stays off the caller's clock. */
async function paused<T>(onPause: CompleteOptions['onPause'], waiting: () => Promise<T>): Promise<T> {
  const resume = onPause?.();
  try {
    return await waiting();
  } finally {
    resume?.();
  }
}

export function createLlmClient(config: ResolvedLlmConfig, options: LlmClientOptions = {}): LlmClient {
  const settings = config.settings;
  const endpoint = resolveEndpoint(config, options.env ?? process.env);
  const timeoutMs = Math.round((settings.timeout ?? 600) * 1000);
  const transport = chooseTransport(endpoint, settings, timeoutMs);
  const policy = retryPolicy(settings);
  const dropParams = settings.drop_params ?? true;
  const secrets = [endpoint.apiKey, settings.api_key].filter((secret): secret is string => Boolean(secret));
  const wait = options.sleep ?? realSleep;
  const onTry = options.onTry ?? (() => {});
  const label = `LLM config '${config.name}' (${settings.model})`;
  // Parameters a provider rejected stay dropped for the client's later calls.
  let params = { ...transport.params };

  /** One request with its own deadline; the caller's abort passes through untouched. */
  async function sendOnce(messages: Message[], tools: ToolSpec[] | undefined, signal: AbortSignal | undefined): Promise<WireResponse> {
    const deadline = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      deadline.abort(new Error('timeout'));
    }, timeoutMs);
    try {
      const combined = signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal;
      return await transport.send({ messages, tools, params }, combined, timeoutMs);
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (timedOut) throw new FailedTry({ kind: 'timeout', message: `no complete answer within ${timeoutMs / 1000} s (the timeout setting)` });
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One request inside the pacer's slot; the pacer learns whether the provider refused it for the rate. */
  async function sendPaced(messages: Message[], tools: ToolSpec[] | undefined, signal: AbortSignal | undefined, onPause: CompleteOptions['onPause']): Promise<WireResponse> {
    if (!options.pacer) return sendOnce(messages, tools, signal);
    const ended = await paused(onPause, () => options.pacer!.acquire(signal));
    try {
      const response = await sendOnce(messages, tools, signal);
      ended({ rateLimited: false });
      return response;
    } catch (error) {
      const verdict = error instanceof FailedTry ? classify(error.failure) : undefined;
      const retryAfterS = parseRetryAfter(verdict?.retryAfter);
      ended({ rateLimited: verdict?.errorClass === 'rate_limit', retryAfterMs: retryAfterS === undefined ? undefined : retryAfterS * 1000 });
      throw error;
    }
  }

  /** Renames the max-tokens field a server does not know, drops any other rejected field. */
  function withoutParameter(field: string): Record<string, unknown> {
    const next = { ...params };
    const value = next[field];
    delete next[field];
    if (field === 'max_tokens' && endpoint.provider !== 'anthropic') next.max_completion_tokens = value;
    if (field === 'max_completion_tokens') next.max_tokens = value;
    return next;
  }

  async function complete(messages: Message[], callOptions: CompleteOptions = {}): Promise<Completion> {
    const { tools, signal } = callOptions;
    const requestHash = hashRequest(endpoint, transport, messages, tools, options.cacheNamespace);
    const stored = options.cache?.get(requestHash);
    if (stored) return { ...stored, cached: true };

    const tries: TryRecord[] = [];
    let retriesUsed = 0;
    const adjusted = new Set<string>();

    const attempt = async (): Promise<{ response: WireResponse; latencyMs: number }> => {
      for (;;) {
        const started = performance.now();
        let billed: WireResponse | undefined;
        try {
          const response = await sendPaced(messages, tools, signal, callOptions.onPause);
          if (!response.text.trim() && response.toolCalls.length === 0) {
            // An empty answer is retried, but the provider billed it: its tokens and cost stay on the try.
            billed = response;
            throw new FailedTry({ kind: 'empty', message: 'the response had no text and no tool calls' });
          }
          const latencyMs = Math.round(performance.now() - started);
          const record: TryRecord = { status: 'ok', latencyMs };
          tries.push(record);
          onTry(record);
          return { response, latencyMs };
        } catch (error) {
          if (!(error instanceof FailedTry)) throw new AbortError(error instanceof Error ? error : new Error(String(error)));
          const verdict = classify(error.failure);
          const record: TryRecord = {
            status: 'error', errorClass: verdict.errorClass, httpStatus: verdict.httpStatus,
            message: redact(verdict.message, secrets), latencyMs: Math.round(performance.now() - started),
          };
          if (billed) {
            record.usage = billed.usage;
            record.cost = billed.usageKnown ? priceOf(settings, billed.usage, { at: new Date(), responseModel: billed.model }) : priceOf(settings, null);
          } else if (verdict.errorClass === 'timeout') {
            // A request that timed out may have been billed for tokens nobody saw.
            record.cost = priceOf(settings, null);
          }
          tries.push(record);
          if (dropParams) {
            const sent = Object.fromEntries(Object.entries(transport.aliases).filter(([field]) => field in params));
            const field = rejectedParameter(error.failure, sent);
            if (field !== undefined && !adjusted.has(field)) {
              // Not a retry: the same request without the parameter the provider refuses.
              adjusted.add(field);
              params = withoutParameter(field);
              record.message = `${record.message} [drop_params: sent again without ${field}]`;
              onTry(record);
              continue;
            }
          }
          if (!verdict.retryable || retriesUsed >= policy.numRetries) {
            onTry(record);
            const after = tries.length === 1 ? 'on the first try' : `after ${tries.length} tries`;
            const reason = verdict.retryable ? `retries exhausted (num_retries = ${policy.numRetries})` : 'not retried';
            throw new AbortError(new LlmError(redact(`${label} failed ${after}, ${reason}: ${verdict.errorClass}: ${verdict.message}`, secrets), verdict.errorClass, tries, verdict.retryable));
          }
          retriesUsed++;
          record.waitMs = retryWaitMs(retriesUsed, settings, verdict.retryAfter);
          onTry(record);
          throw new RetryLater(record.message ?? verdict.errorClass, record.waitMs);
        }
      }
    };

    let outcome: { response: WireResponse; latencyMs: number };
    try {
      outcome = await pRetry(attempt, {
        retries: policy.numRetries,
        // Waits are ours (backoff, jitter, Retry-After); p-retry only counts and loops.
        minTimeout: 0,
        factor: 1,
        signal,
        shouldRetry: async ({ error }) => {
          if (!(error instanceof RetryLater)) return false;
          await paused(callOptions.onPause, () => wait(error.waitMs, signal));
          return true;
        },
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw error;
    }

    // The rest waits for this turn's other I/O: answers that arrived with this one free their
    // provider slots, and the calls waiting for them go out, before this episode's work goes on.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const { response, latencyMs } = outcome;
    const at = new Date();
    let usage = response.usage;
    let cost = response.usageKnown ? priceOf(settings, response.usage, { at, responseModel: response.model }) : priceOf(settings, null);
    for (const failed of tries) {
      if (failed.status !== 'error' || failed.cost === undefined) continue;
      if (failed.usage) usage = addUsage(usage, failed.usage);
      cost = cost === null || failed.cost === null ? null : cost + failed.cost;
    }
    const completion: Completion = {
      text: response.text,
      toolCalls: response.toolCalls,
      usage,
      usageKnown: response.usageKnown,
      cost,
      ...(response.carried ? { carried: response.carried } : {}),
      wireApi: transport.wireApi,
      at: at.toISOString(),
      latencyMs,
      tries,
      model: response.model,
      provider: endpoint.route,
      requestHash,
      cached: false,
      raw: response.raw,
    };
    options.cache?.set(requestHash, completion);
    return completion;
  }

  return {
    configName: config.name,
    model: settings.model ?? endpoint.model,
    nativeToolCalling: settings.native_tool_calling,
    maxInputTokens: maxInputTokensOf(endpoint, settings),
    complete,
  };
}
