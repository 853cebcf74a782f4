import { FailedTry, type WireFailure } from './_errors.ts';
import type { Message, ToolCall, ToolSpec, Usage, WireApi } from './_types.ts';

export type WireRequest = {
  messages: Message[];
  tools?: ToolSpec[];
  /** Sampling parameters in the provider's own field names. */
  params: Record<string, unknown>;
};

export type WireResponse = {
  text: string;
  toolCalls: ToolCall[];
  usage: Usage;
  /** False when the body had no usage: the tokens (and so the cost) are unknown, not zero. */
  usageKnown: boolean;
  /** The turn's own items, to send back verbatim (Message.carried). */
  carried?: unknown[];
  model: string;
  raw: unknown;
};

/** One provider's wire format: what it is sent and how its answer reads. */
export type Transport = {
  /** The sampling parameters the config asks for, in this provider's field names. */
  params: Record<string, unknown>;
  wireApi: WireApi;
  /** For each droppable field, the other words a provider's error message may name it by. */
  aliases: Record<string, string[]>;
  send(request: WireRequest, signal: AbortSignal, timeoutMs: number): Promise<WireResponse>;
};

type Constructor = abstract new (...args: never[]) => unknown;

/** The error classes both SDKs share (they come from the same generator), so one mapping serves both. */
export type SdkErrors = { APIError: Constructor; APIConnectionError: Constructor; APIConnectionTimeoutError: Constructor };

/** What fetch says of a URL it cannot use at all (no retry changes it). */
const INVALID_URL = /unknown scheme|invalid url|only absolute urls|url scheme .* is not supported/i;

export function failureFromSdk(error: unknown, sdk: SdkErrors): FailedTry {
  if (error instanceof FailedTry) return error;
  const text = error instanceof Error ? error.message : String(error);
  let failure: WireFailure;
  if (error instanceof sdk.APIConnectionTimeoutError) {
    failure = { kind: 'timeout', message: text };
  } else if (error instanceof sdk.APIConnectionError) {
    // Fetch hides the useful part (ECONNREFUSED, ENOTFOUND) two causes deep.
    const reasons = [text.replace(/\.$/, '')];
    for (let cause = (error as { cause?: unknown }).cause; cause instanceof Error && reasons.length < 4; cause = cause.cause) reasons.push(cause.message);
    failure = { kind: reasons.some((reason) => INVALID_URL.test(reason)) ? 'invalid_url' : 'connection', message: reasons.join(': ') };
  } else if (error instanceof sdk.APIError && typeof (error as { status?: unknown }).status === 'number') {
    const apiError = error as unknown as { status: number; headers?: Headers; error?: unknown };
    failure = { kind: 'http', status: apiError.status, headers: apiError.headers, body: apiError.error, message: text };
  } else if (error instanceof SyntaxError) {
    failure = { kind: 'malformed', message: `the response body is not valid JSON (${text})` };
  } else if (INVALID_URL.test(text)) {
    failure = { kind: 'invalid_url', message: text };
  } else {
    failure = { kind: 'other', message: text };
  }
  return new FailedTry(failure);
}

export function malformed(what: string, raw: unknown): FailedTry {
  const preview = typeof raw === 'string' ? raw : JSON.stringify(raw);
  return new FailedTry({ kind: 'malformed', message: `${what}; got ${String(preview).slice(0, 200)}` });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * A base_url's query (`?key=...` for servers that take the key there) kept apart from its path:
 * the SDKs append the API path to the base URL as text, which would put it after the query.
 */
export function splitBaseUrl(baseUrl: string): { baseURL: string; defaultQuery?: Record<string, string> } {
  const at = baseUrl.indexOf('?');
  if (at < 0) return { baseURL: baseUrl };
  const query = Object.fromEntries(new URLSearchParams(baseUrl.slice(at + 1)));
  return { baseURL: baseUrl.slice(0, at), ...(Object.keys(query).length ? { defaultQuery: query } : {}) };
}
