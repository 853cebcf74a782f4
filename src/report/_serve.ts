import { spawn } from 'node:child_process';

/**
 * Serves one page on 127.0.0.1 (never another interface) until `signal` aborts; resolves once
 * listening with the address, and `closed` resolves when the server has stopped.
 */
export async function servePage(html: string, options: { port?: number; signal: AbortSignal }): Promise<{ url: string; closed: Promise<void> }> {
  const body = Buffer.from(html);
  // Imported here: importing node:http loads Node's fetch (undici) with it, which no other command needs.
  const { createServer } = await import('node:http');
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if ((request.method === 'GET' || request.method === 'HEAD') && (path === '/' || path === '/index.html')) {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': body.length, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      response.end(request.method === 'HEAD' ? undefined : body);
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    response.end('Not found: this server holds one page, at /\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const closed = new Promise<void>((resolve) => {
    const stop = () => {
      server.close(() => resolve());
      server.closeAllConnections();
    };
    if (options.signal.aborted) stop();
    else options.signal.addEventListener('abort', stop, { once: true });
  });
  return { url: `http://127.0.0.1:${port}/`, closed };
}

/** Opens `url` in the user's browser when there is a display to show it on; a failure is only a missing convenience. */
export function openInBrowser(url: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const command = env.BROWSER ?? (env.DISPLAY || env.WAYLAND_DISPLAY ? 'xdg-open' : undefined);
  if (!command) return false;
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}
