import type { Agent as HttpAgent } from 'node:http';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

/**
 * The `fetch` the provider SDKs are given: a request with a string body (every model call) goes
 * through node:http on a keep-alive agent, whose parser is native, instead of the global fetch's
 * streams and timing records, at about half the harness's CPU per call. What the SDK sees is the
 * same: a Response with the status, headers and (decoded) body, an AbortError when its signal
 * fires, a TypeError with the network error as `cause` when the connection fails. Anything else
 * (a streamed body, another scheme) goes to the global fetch.
 */
export async function lightFetch(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  const target = typeof input === 'string' ? input : input instanceof URL ? input.href : undefined;
  const body = init.body;
  if (target === undefined || (body !== undefined && body !== null && typeof body !== 'string')) return fetch(input, init);
  const url = new URL(target);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return fetch(input, init);
  const { request, agent } = await transportFor(url.protocol);
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value;
  });
  if (typeof body === 'string' && headers['content-length'] === undefined) headers['content-length'] = String(Buffer.byteLength(body));
  init.signal?.throwIfAborted();

  return new Promise<Response>((resolve, reject) => {
    const failed = (error: Error) => reject(init.signal?.aborted ? abortError(init.signal) : Object.assign(new TypeError('fetch failed'), { cause: error }));
    const sent = request(url, { method: init.method ?? 'GET', headers, agent, ...(init.signal ? { signal: init.signal } : {}) }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', failed);
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        const received = new Headers();
        for (let i = 0; i + 1 < response.rawHeaders.length; i += 2) received.append(response.rawHeaders[i]!, response.rawHeaders[i + 1]!);
        let content: Buffer;
        try {
          content = decoded(Buffer.concat(chunks), received.get('content-encoding'));
        } catch (error) {
          failed(error as Error);
          return;
        }
        // The body is decoded here, as the global fetch decodes it: its encoding headers no longer apply.
        if (received.has('content-encoding')) {
          received.delete('content-encoding');
          received.delete('content-length');
        }
        resolve(bufferedResponse(content, { status, statusText: response.statusMessage ?? '', headers: received }));
      });
    });
    sent.on('error', failed);
    sent.end(typeof body === 'string' ? body : undefined);
  });
}

/**
 * A Response whose body is already read: text(), json() and arrayBuffer() decode the buffer
 * directly instead of through a stream, which is most of a Response's cost; `body` is a stream
 * only for a caller that asks for one.
 */
function bufferedResponse(content: Buffer, init: ResponseInit): Response {
  const response = new Response(null, init);
  let used = false;
  const take = (): Buffer => {
    if (used) throw new TypeError('Body is unusable: Body has already been read');
    used = true;
    return content;
  };
  Object.defineProperties(response, {
    // Only reading a body uses it up: a stream over the buffer, made when asked for.
    body: { get: () => (content.length === 0 ? null : new Response(new Uint8Array(content)).body) },
    bodyUsed: { get: () => used },
    text: { value: async () => take().toString('utf8') },
    json: { value: async () => JSON.parse(take().toString('utf8')) as unknown },
    arrayBuffer: { value: async () => new Uint8Array(take()).buffer },
    clone: { value: () => bufferedResponse(Buffer.from(content), { status: response.status, statusText: response.statusText, headers: response.headers }) },
  });
  return response;
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error && reason.name === 'AbortError' ? reason : new DOMException('This operation was aborted', 'AbortError');
}

function decoded(content: Buffer, encoding: string | null): Buffer {
  switch (encoding?.trim().toLowerCase()) {
    case undefined:
    case '':
    case 'identity':
      return content;
    case 'gzip':
    case 'x-gzip':
      return gunzipSync(content);
    case 'deflate':
      return inflateSync(content);
    case 'br':
      return brotliDecompressSync(content);
    default:
      throw new Error(`the response's content-encoding ${encoding} is not supported`);
  }
}

type Transport = { request: typeof import('node:http').request; agent: HttpAgent };
const transports = new Map<string, Promise<Transport>>();

/** node:http or node:https with one keep-alive agent each, loaded with the first call (commands without one never load them). */
function transportFor(protocol: string): Promise<Transport> {
  let found = transports.get(protocol);
  if (!found) {
    found = (protocol === 'https:'
      ? import('node:https').then(({ request, Agent }) => ({ request: request as Transport['request'], agent: new Agent({ keepAlive: true }) as unknown as HttpAgent }))
      : import('node:http').then(({ request, Agent }) => ({ request, agent: new Agent({ keepAlive: true }) })));
    transports.set(protocol, found);
  }
  return found;
}
