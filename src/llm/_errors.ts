import type { ErrorClass } from './_types.ts';

/** What went wrong in one try, in terms common to every SDK. */
export type WireFailure = {
  kind: 'http' | 'timeout' | 'connection' | 'invalid_url' | 'malformed' | 'empty' | 'other';
  status?: number;
  headers?: { get(name: string): string | null } | undefined;
  /** The parsed error body, in the provider's own shape. */
  body?: unknown;
  message: string;
};

/** Thrown by a transport for one failed try; the client turns it into a TryRecord. */
export class FailedTry extends Error {
  readonly failure: WireFailure;
  constructor(failure: WireFailure) {
    super(failure.message);
    this.name = 'FailedTry';
    this.failure = failure;
  }
}

export type Classified = { errorClass: ErrorClass; retryable: boolean; message: string; httpStatus?: number; retryAfter?: string };

const CONTEXT = /context[_ ]length|maximum context|context window|too many tokens|prompt is too long|input is too long|reduce the length|exceeds? the (model's )?context|maximum number of tokens/i;
// Not "exceeded your current quota": Gemini says that of per-minute limits too, which pass with time.
const QUOTA = /insufficient[_ ]quota|credit balance is too low/i;

/** The `message`, `type`, `code` and `param` of an error body, whichever nesting the provider uses. */
export function errorFields(body: unknown): { message?: string; type?: string; code?: string; param?: string } {
  const fields: { message?: string; type?: string; code?: string; param?: string } = {};
  let node: unknown = body;
  for (let depth = 0; depth < 3 && node && typeof node === 'object'; depth++) {
    const record = node as Record<string, unknown>;
    for (const key of ['message', 'type', 'code', 'param'] as const) {
      const value = record[key];
      if ((typeof value === 'string' || typeof value === 'number') && fields[key] === undefined && !(key === 'type' && value === 'error')) {
        fields[key] = String(value);
      }
    }
    node = record.error;
  }
  if (typeof body === 'string' && body.trim()) fields.message ??= body.trim();
  return fields;
}

export function classify(failure: WireFailure): Classified {
  const status = failure.status;
  const fields = errorFields(failure.body);
  const detail = fields.message ?? failure.message;
  const label = [fields.code, fields.type].filter((part, i, all) => part && all.indexOf(part) === i).join('/');
  const message = (status !== undefined ? `HTTP ${status}${label ? ` ${label}` : ''}: ${detail}` : detail).slice(0, 1000);
  const base = { message, httpStatus: status };
  switch (failure.kind) {
    case 'timeout': return { ...base, errorClass: 'timeout', retryable: true };
    case 'connection': return { ...base, errorClass: 'connection', retryable: true };
    // A URL that cannot be built or has a scheme fetch does not speak fails the same way every time.
    case 'invalid_url': return { ...base, errorClass: 'connection', retryable: false };
    case 'malformed': return { ...base, errorClass: 'server_error', retryable: true };
    case 'empty': return { ...base, errorClass: 'empty_response', retryable: true };
    case 'other': return { ...base, errorClass: 'bad_request', retryable: false };
    case 'http': break;
  }
  const everything = `${fields.code ?? ''} ${fields.type ?? ''} ${detail}`;
  const retryAfter = failure.headers?.get('retry-after') ?? retryAfterFromMs(failure.headers?.get('retry-after-ms'));
  if (status === 402 || QUOTA.test(everything)) return { ...base, errorClass: 'quota', retryable: false };
  if (status === 429) return { ...base, errorClass: 'rate_limit', retryable: true, retryAfter };
  if (status === 401 || status === 403) return { ...base, errorClass: 'auth', retryable: false };
  if (status === 404) return { ...base, errorClass: 'not_found', retryable: false };
  if (status === 408) return { ...base, errorClass: 'timeout', retryable: true, retryAfter };
  if (status !== undefined && status >= 500) return { ...base, errorClass: 'server_error', retryable: true, retryAfter };
  if (status === 409) return { ...base, errorClass: 'server_error', retryable: true, retryAfter };
  if (CONTEXT.test(everything)) return { ...base, errorClass: 'context_window', retryable: false };
  return { ...base, errorClass: 'bad_request', retryable: false };
}

function retryAfterFromMs(value: string | null | undefined): string | undefined {
  if (!value || !/^\d+(\.\d+)?$/.test(value.trim())) return undefined;
  return String(Number(value) / 1000);
}

const UNSUPPORTED = /unsupported|not supported|unrecognized|unknown (parameter|field|argument)|not permitted|not allowed|extra inputs|does not support|cannot both be specified|only the default/i;

/**
 * The sent parameter a 400 rejects, for `drop_params`; undefined when the error is about anything else.
 * `aliases` maps each wire field to the words a provider may use for it in the message.
 */
export function rejectedParameter(failure: WireFailure, aliases: Record<string, string[]>): string | undefined {
  if (failure.kind !== 'http' || (failure.status !== 400 && failure.status !== 422)) return undefined;
  const fields = errorFields(failure.body);
  const text = `${fields.code ?? ''} ${fields.message ?? failure.message}`;
  if (!UNSUPPORTED.test(text) && !/unsupported_(parameter|value)/.test(fields.code ?? '')) return undefined;
  const fieldNames = Object.keys(aliases);
  if (fields.param) {
    const named = fieldNames.find((field) => field === fields.param || aliases[field]!.includes(fields.param!));
    if (named) return named;
  }
  let first: { field: string; at: number } | undefined;
  for (const field of fieldNames) {
    for (const word of [field, ...aliases[field]!]) {
      const at = text.search(new RegExp(`(^|[^a-z_])${word}([^a-z_]|$)`, 'i'));
      if (at >= 0 && (!first || at < first.at)) first = { field, at };
    }
  }
  return first?.field;
}
