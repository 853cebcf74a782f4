/**
 * A real redis-server for one test file, on a free port of 127.0.0.1, in its own folder, with no
 * persistence (a restart loses everything, the hardest case for a run). Skips cleanly where
 * redis-server is not installed (CI installs it).
 *
 *   const redis = await startRedis();   // redis.url = redis://127.0.0.1:PORT
 *   await redis.restart();              // stop and start again on the same port, empty
 *   await redis.stop();
 */
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type RedisServer = { url: string; port: number; restart(): Promise<void>; stop(): Promise<void>; cli(...args: string[]): Promise<string> };

export async function redisAvailable(): Promise<boolean> {
  return (await execa('redis-server', ['--version'], { reject: false })).exitCode === 0;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'bench-redis-'));
  let child: ResultPromise | undefined;
  const cli = async (...args: string[]) => (await execa('redis-cli', ['-p', String(port), ...args], { reject: false })).stdout;
  const start = async () => {
    child = execa('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { reject: false, stdio: 'ignore' });
    for (let i = 0; i < 200; i++) {
      if ((await cli('ping')) === 'PONG') return;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`redis-server did not start on port ${port}`);
  };
  const stop = async () => {
    if (!child) return;
    child.kill('SIGKILL');
    await child;
    child = undefined;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, cli, stop, restart: async () => { await stop(); await start(); } };
}
