import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { lightFetch } from '../../src/llm/_http.ts';

const servers: Server[] = [];
afterAll(() => {
  for (const server of servers) server.closeAllConnections();
  for (const server of servers) server.close();
});

/** A real HTTP server on 127.0.0.1: echoes the request, or answers gzip-encoded, or never answers. */
async function server(): Promise<string> {
  const it = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/hang') return;
      if (req.url === '/gzip') {
        const body = gzipSync(JSON.stringify({ choices: [{ message: { content: 'zipped' } }] }));
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(body.length) });
        res.end(body);
        return;
      }
      if (req.url === '/empty') {
        res.writeHead(204, { 'x-request-id': 'req-1' });
        res.end();
        return;
      }
      res.writeHead(req.url === '/limited' ? 429 : 200, { 'content-type': 'application/json', 'retry-after': '3', 'set-cookie': 'a=1' });
      res.end(JSON.stringify({ method: req.method, auth: req.headers.authorization, type: req.headers['content-type'], body: Buffer.concat(chunks).toString() }));
    });
  });
  servers.push(it);
  await new Promise<void>((resolve) => it.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(it.address() as AddressInfo).port}`;
}

describe('the fetch the provider SDKs are given', () => {
  it('sends method, headers and body, and gives the status, headers and body back as a Response', async () => {
    const url = await server();
    const response = await lightFetch(`${url}/limited`, {
      method: 'POST', headers: new Headers({ authorization: 'Bearer sk-test', 'content-type': 'application/json' }), body: '{"ü":1}',
    });
    expect(response.status).toBe(429);
    expect(response.ok).toBe(false);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(response.bodyUsed).toBe(false);
    expect(await new Response(response.body).json()).toEqual({ method: 'POST', auth: 'Bearer sk-test', type: 'application/json', body: '{"ü":1}' });
    expect(await response.clone().json()).toEqual({ method: 'POST', auth: 'Bearer sk-test', type: 'application/json', body: '{"ü":1}' });
    expect(await response.json()).toEqual({ method: 'POST', auth: 'Bearer sk-test', type: 'application/json', body: '{"ü":1}' });
    // Read once, as a fetch Response's body is.
    expect(response.bodyUsed).toBe(true);
    await expect(response.text()).rejects.toThrow(TypeError);
  });

  it('decodes a gzip-encoded body, and gives an empty body for 204', async () => {
    const url = await server();
    const zipped = await lightFetch(`${url}/gzip`, { method: 'POST', body: '{}' });
    expect(zipped.headers.get('content-encoding')).toBeNull();
    expect(await zipped.json()).toEqual({ choices: [{ message: { content: 'zipped' } }] });
    const empty = await lightFetch(`${url}/empty`, { method: 'POST', body: '{}' });
    expect(empty.status).toBe(204);
    expect(empty.headers.get('x-request-id')).toBe('req-1');
    expect(await empty.text()).toBe('');
  });

  it('ends with an AbortError when its signal fires, and a TypeError naming the cause when nothing listens', async () => {
    const url = await server();
    const controller = new AbortController();
    const pending = lightFetch(`${url}/hang`, { method: 'POST', body: '{}', signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await lightFetch(`http://127.0.0.1:${port}/v1`, { method: 'POST', body: '{}' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TypeError);
    expect(String((refused as { cause?: Error }).cause?.message)).toMatch(/ECONNREFUSED/);
  });
});
