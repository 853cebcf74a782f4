import { LLM_DEFAULTS, type LlmSettings } from '../config/index.ts';

export type RetryPolicy = { numRetries: number; minWait: number; maxWait: number; multiplier: number };

export function retryPolicy(settings: Partial<LlmSettings>): RetryPolicy {
  return {
    numRetries: settings.num_retries ?? LLM_DEFAULTS.num_retries ?? 8,
    minWait: settings.retry_min_wait ?? LLM_DEFAULTS.retry_min_wait ?? 15,
    maxWait: settings.retry_max_wait ?? LLM_DEFAULTS.retry_max_wait ?? 120,
    multiplier: settings.retry_multiplier ?? LLM_DEFAULTS.retry_multiplier ?? 2,
  };
}

/** Seconds to wait from a `Retry-After` value (delay in seconds, or an HTTP date); undefined when unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, (date - now) / 1000);
}

/**
 * Milliseconds to wait before retry `attempt` (1 = the first retry):
 * clamp(multiplier * 2^(attempt-1), min, max) seconds plus up to 10% jitter, never above max.
 * A readable `Retry-After` replaces the backoff, capped by retry_max_wait.
 */
export function retryWaitMs(attempt: number, settings: Partial<LlmSettings>, retryAfter?: string | null): number {
  const { minWait, maxWait, multiplier } = retryPolicy(settings);
  const serverSays = parseRetryAfter(retryAfter);
  if (serverSays !== undefined) return Math.round(Math.min(serverSays, maxWait) * 1000);
  const base = Math.min(Math.max(multiplier * 2 ** (Math.max(1, attempt) - 1), minWait), maxWait);
  const jittered = Math.min(base * (1 + Math.random() * 0.1), maxWait);
  return Math.round(jittered * 1000);
}

/** A sleep that ends early, rejecting with the signal's reason, when the caller aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
