/**
 * A scripted LLM provider for tests: a real HTTP server on 127.0.0.1 (random port) that speaks
 * OpenAI chat completions (any POST path ending in `/chat/completions`, so Azure's
 * `/openai/deployments/<name>/chat/completions?api-version=...` too), OpenAI's Responses API
 * (any POST path ending in `/responses`) and Anthropic messages (any POST path ending in `/messages`).
 * A reply's `reasoning` becomes a reasoning item with encrypted content (Responses) or a signed
 * thinking block (Anthropic); `usage: null` leaves the usage field out, as some servers do. Bodies, usage fields (cached tokens included), tool calls
 * and error bodies follow each provider's own shape.
 *
 *   const server = await startLlmServer([
 *     { kind: 'rate_limit', retryAfter: '3' },
 *     { kind: 'success', text: 'done', usage: { input: 1200, output: 40, cacheRead: 1000 } },
 *   ]);
 *   // OpenAI-format clients:   base_url = server.openaiUrl   (`${server.url}/v1`)
 *   // Anthropic-format clients: base_url = server.url
 *   ...
 *   expect(server.requests).toHaveLength(2);       // every request, in arrival order
 *   await server.close();
 *
 * The script is a queue of replies, one per request (when it runs out, `options.fallback` answers,
 * else the last reply repeats), or a function of the request deciding each reply.
 * Usage in a reply is in bench's convention: `input` is the whole prompt with cached tokens inside
 * it; the server writes it as each provider does (Anthropic's `input_tokens` excludes the cache).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ScriptedUsage = { input?: number; output?: number; cacheRead?: number; cacheWrite?: number };
export type ScriptedToolCall = { id?: string; name: string; arguments?: string | Record<string, unknown> };

export type Reply = (
  /** 200 with text and/or tool calls. */
  | { kind: 'success'; text?: string; toolCalls?: ScriptedToolCall[]; usage?: ScriptedUsage | null; model?: string; reasoning?: string }
  /** 200 with no text and no tool calls. */
  | { kind: 'empty'; usage?: ScriptedUsage | null }
  /** 429; `retryAfter` is sent verbatim as the Retry-After header (seconds or an HTTP date). */
  | { kind: 'rate_limit'; retryAfter?: string; message?: string }
  /** 500 unless another status is given (502, 503, 529...). */
  | { kind: 'server_error'; status?: number; message?: string }
  /** Never answers; the connection stays open until the client gives up or the server closes. */
  | { kind: 'hang' }
  /** 200 with a JSON content type and a body that is not valid JSON. */
  | { kind: 'malformed'; body?: string }
  /** 400: the prompt is longer than the model's context window. */
  | { kind: 'context_length' }
  /** 401; `echoKey` puts the full key the client sent into the message, as a careless server might. */
  | { kind: 'auth'; echoKey?: boolean }
  /** Exhausted quota: OpenAI's 429 `insufficient_quota`, Anthropic's 400 credit-balance error. */
  | { kind: 'quota' }
  /** 400 refusing one request parameter, e.g. `top_k`. */
  | { kind: 'unsupported_param'; param: string }
  /** 404: unknown model or deployment. */
  | { kind: 'not_found' }
  /** Anything else, written as given. */
  | { kind: 'raw'; status: number; body: string | Record<string, unknown>; contentType?: string }
) & {
  /** Extra wait before this reply, on top of the server's `latencyMs`. */
  delayMs?: number;
  headers?: Record<string, string>;
};

export type RecordedRequest = {
  /** 0-based arrival order. */
  index: number;
  method: string;
  /** Path without the query, e.g. `/v1/chat/completions`. */
  path: string;
  /** Path with the query, e.g. `/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21`. */
  url: string;
  query: Record<string, string>;
  /** Lower-case names. */
  headers: Record<string, string>;
  format: 'openai' | 'responses' | 'anthropic' | 'unknown';
  /** The parsed JSON body (undefined when it was not JSON). */
  body: any;
  rawBody: string;
  receivedAt: number;
  /** When the reply was written (after the latency). */
  answeredAt?: number;
};

export type Script = Reply[] | ((request: RecordedRequest, index: number) => Reply | Promise<Reply>);

export type LlmServerOptions = {
  /** Fixed wait before every reply, in milliseconds. */
  latencyMs?: number;
  /** The reply once a queue script runs out (default: the queue's last reply, repeated). */
  fallback?: Reply;
};

export type LlmServer = {
  /** `http://127.0.0.1:<port>`: the base_url for Anthropic-format clients and Azure endpoints. */
  url: string;
  /** `${url}/v1`: the base_url for OpenAI-format clients. */
  openaiUrl: string;
  requests: RecordedRequest[];
  /** Appends replies to a queue script. */
  enqueue(...replies: Reply[]): void;
  close(): Promise<void>;
};

export async function startLlmServer(script: Script = [], options: LlmServerOptions = {}): Promise<LlmServer> {
  const requests: RecordedRequest[] = [];
  const queue = Array.isArray(script) ? [...script] : [];
  let lastQueued: Reply | undefined;

  const nextReply = async (request: RecordedRequest): Promise<Reply> => {
    if (typeof script === 'function') return script(request, request.index);
    const reply = queue.shift();
    if (reply) {
      lastQueued = reply;
      return reply;
    }
    return options.fallback ?? lastQueued ?? { kind: 'success', text: 'ok' };
  };

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`llm-server failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrived = Date.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const parsedUrl = new URL(req.url ?? '/', 'http://127.0.0.1');
    let body: unknown;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      body = undefined;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    const path = parsedUrl.pathname;
    const format = path.endsWith('/chat/completions') ? 'openai' : path.endsWith('/responses') ? 'responses' : path.endsWith('/messages') ? 'anthropic' : 'unknown';
    const request: RecordedRequest = {
      index: requests.length, method: req.method ?? 'GET', path, url: `${path}${parsedUrl.search}`,
      query: Object.fromEntries(parsedUrl.searchParams), headers, format, body, rawBody, receivedAt: Date.now(),
    };
    requests.push(request);

    if (format === 'unknown' || request.method !== 'POST') {
      send(res, 404, { error: { message: `llm-server: no route for ${request.method} ${path}`, type: 'invalid_request_error', param: null, code: 'not_found' } });
      return;
    }
    const reply = await nextReply(request);
    // The latency is counted from the request's arrival, as a provider's is: reading and scripting the reply are part of it.
    const wait = (options.latencyMs ?? 0) + (reply.delayMs ?? 0) - (Date.now() - arrived);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    if (res.destroyed) return;
    answer(res, request, reply);
    request.answeredAt = Date.now();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    openaiUrl: `${url}/v1`,
    requests,
    enqueue: (...replies) => {
      queue.push(...replies);
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, contentType = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': String(Buffer.byteLength(text)), ...headers });
  res.end(text);
}

/** The API key a request carried, whichever header its SDK used (`authorization: Bearer`, `x-api-key`, `api-key`). */
export function apiKeyOf(request: RecordedRequest): string {
  return request.headers['x-api-key'] ?? request.headers['api-key'] ?? (request.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
}

function errorBody(request: RecordedRequest, anthropicType: string, message: string, openai: { type: string; code: string | null; param?: string | null }): unknown {
  if (request.format === 'anthropic') return { type: 'error', error: { type: anthropicType, message } };
  return { error: { message, type: openai.type, param: openai.param ?? null, code: openai.code } };
}

function answer(res: ServerResponse, request: RecordedRequest, reply: Reply): void {
  const headers = reply.headers ?? {};
  const model = typeof request.body?.model === 'string' ? request.body.model : 'scripted-model';
  switch (reply.kind) {
    case 'success':
    case 'empty': {
      const text = reply.kind === 'success' ? reply.text ?? '' : '';
      const toolCalls = reply.kind === 'success' ? reply.toolCalls ?? [] : [];
      const replyModel = reply.kind === 'success' && reply.model ? reply.model : model;
      const reasoning = reply.kind === 'success' ? reply.reasoning : undefined;
      const body = request.format === 'anthropic'
        ? anthropicMessage(replyModel, text, toolCalls, reply.usage, reasoning)
        : request.format === 'responses'
          ? responsesResponse(replyModel, text, toolCalls, reply.usage, reasoning, request.index)
          : openAiCompletion(replyModel, text, toolCalls, reply.usage);
      send(res, 200, body, headers);
      return;
    }
    case 'rate_limit': {
      const message = reply.message ?? 'Rate limit reached for requests per minute. Please try again later.';
      const retry: Record<string, string> = reply.retryAfter !== undefined ? { 'retry-after': reply.retryAfter } : {};
      send(res, 429, errorBody(request, 'rate_limit_error', message, { type: 'requests', code: 'rate_limit_exceeded' }), { ...retry, ...headers });
      return;
    }
    case 'server_error': {
      const status = reply.status ?? 500;
      const message = reply.message ?? (status === 529 ? 'Overloaded' : 'The server had an error while processing your request.');
      send(res, status, errorBody(request, status === 529 ? 'overloaded_error' : 'api_error', message, { type: 'server_error', code: null }), headers);
      return;
    }
    case 'hang':
      return;
    case 'malformed':
      send(res, 200, reply.body ?? '{"id": "broken", "choices": [{"message": {"content": "cut off', headers);
      return;
    case 'context_length': {
      const message = request.format === 'anthropic'
        ? 'prompt is too long: 210000 tokens > 200000 maximum'
        : "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.";
      send(res, 400, errorBody(request, 'invalid_request_error', message, { type: 'invalid_request_error', code: 'context_length_exceeded', param: 'messages' }), headers);
      return;
    }
    case 'auth': {
      const key = apiKeyOf(request);
      const shown = reply.echoKey ? key : `${key.slice(0, 3)}...${key.slice(-4)}`;
      const message = request.format === 'anthropic' ? `invalid x-api-key: ${reply.echoKey ? key : 'rejected'}` : `Incorrect API key provided: ${shown}. You can find your API key in your account settings.`;
      send(res, 401, errorBody(request, 'authentication_error', message, { type: 'invalid_request_error', code: 'invalid_api_key' }), headers);
      return;
    }
    case 'quota':
      if (request.format === 'anthropic') {
        send(res, 400, errorBody(request, 'invalid_request_error', 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.', { type: '', code: null }), headers);
      } else {
        send(res, 429, errorBody(request, '', 'You exceeded your current quota, please check your plan and billing details.', { type: 'insufficient_quota', code: 'insufficient_quota' }), headers);
      }
      return;
    case 'unsupported_param': {
      const message = request.format === 'anthropic' ? `${reply.param}: Extra inputs are not permitted` : `Unsupported parameter: '${reply.param}' is not supported with this model.`;
      send(res, 400, errorBody(request, 'invalid_request_error', message, { type: 'invalid_request_error', code: 'unsupported_parameter', param: reply.param }), headers);
      return;
    }
    case 'not_found': {
      const message = request.format === 'anthropic' ? `model: ${model}` : `The model \`${model}\` does not exist or you do not have access to it.`;
      send(res, 404, errorBody(request, 'not_found_error', message, { type: 'invalid_request_error', code: 'model_not_found' }), headers);
      return;
    }
    case 'raw':
      send(res, reply.status, reply.body, headers, reply.contentType ?? 'application/json');
      return;
  }
}

/** The encrypted content a reasoning item carries: opaque to clients, checkable by the test that reads it back. */
export function encryptedReasoning(summary: string, index: number): string {
  return Buffer.from(`reasoning ${index}: ${summary}`).toString('base64');
}

function responsesResponse(model: string, text: string, toolCalls: ScriptedToolCall[], scripted: ScriptedUsage | null | undefined, reasoning: string | undefined, index: number): unknown {
  const output: unknown[] = [];
  if (reasoning !== undefined) {
    output.push({ type: 'reasoning', id: `rs_${index}`, summary: [{ type: 'summary_text', text: reasoning }], encrypted_content: encryptedReasoning(reasoning, index) });
  }
  if (text) output.push({ type: 'message', id: `msg_${index}`, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [] }] });
  toolCalls.forEach((call, i) => output.push({
    type: 'function_call', id: `fc_${index}_${i}`, call_id: call.id ?? `call_${index}_${i}`, name: call.name, status: 'completed',
    arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {}),
  }));
  const usage = fullUsage(scripted ?? undefined);
  return {
    id: `resp_${index}`, object: 'response', created_at: Math.floor(Date.now() / 1000), status: 'completed', model, output,
    ...(scripted === null ? {} : {
      usage: {
        input_tokens: usage.input, input_tokens_details: { cached_tokens: usage.cacheRead },
        output_tokens: usage.output, output_tokens_details: { reasoning_tokens: reasoning ? 1 : 0 }, total_tokens: usage.input + usage.output,
      },
    }),
  };
}

function fullUsage(usage: ScriptedUsage | undefined): Required<ScriptedUsage> {
  return { input: usage?.input ?? 10, output: usage?.output ?? 5, cacheRead: usage?.cacheRead ?? 0, cacheWrite: usage?.cacheWrite ?? 0 };
}

function argumentsObject(call: ScriptedToolCall): Record<string, unknown> {
  if (typeof call.arguments === 'string') return JSON.parse(call.arguments) as Record<string, unknown>;
  return call.arguments ?? {};
}

function openAiCompletion(model: string, text: string, toolCalls: ScriptedToolCall[], scripted: ScriptedUsage | null | undefined): unknown {
  const usage = fullUsage(scripted ?? undefined);
  const calls = toolCalls.map((call, i) => ({
    id: call.id ?? `call_${i + 1}`,
    type: 'function',
    function: { name: call.name, arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments ?? {}) },
  }));
  return {
    id: 'chatcmpl-scripted',
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{
      index: 0,
      message: { role: 'assistant', content: text === '' && calls.length > 0 ? null : text, ...(calls.length > 0 ? { tool_calls: calls } : {}) },
      finish_reason: calls.length > 0 ? 'tool_calls' : 'stop',
    }],
    ...(scripted === null ? {} : {
      usage: {
        prompt_tokens: usage.input,
        completion_tokens: usage.output,
        total_tokens: usage.input + usage.output,
        prompt_tokens_details: { cached_tokens: usage.cacheRead },
      },
    }),
  };
}

function anthropicMessage(model: string, text: string, toolCalls: ScriptedToolCall[], scripted: ScriptedUsage | null | undefined, reasoning?: string): unknown {
  const usage = fullUsage(scripted ?? undefined);
  const content: unknown[] = [];
  if (reasoning !== undefined) content.push({ type: 'thinking', thinking: reasoning, signature: encryptedReasoning(reasoning, 0) });
  if (text) content.push({ type: 'text', text });
  toolCalls.forEach((call, i) => content.push({ type: 'tool_use', id: call.id ?? `toolu_${i + 1}`, name: call.name, input: argumentsObject(call) }));
  return {
    id: 'msg_scripted',
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: toolCalls.length > 0 ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    ...(scripted === null ? {} : {
      usage: {
        input_tokens: usage.input - usage.cacheRead - usage.cacheWrite,
        output_tokens: usage.output,
        cache_creation_input_tokens: usage.cacheWrite,
        cache_read_input_tokens: usage.cacheRead,
      },
    }),
  };
}
