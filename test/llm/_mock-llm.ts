import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';

/** A rule of @dwmkerr/mock-llm: a path, an optional JMESPath match or request sequence, and the raw reply. */
export type MockRule = { path: string; method?: string; match?: string; sequence?: number; response: { status: number; content: string } };

export type MockLlm = { url: string; openaiUrl: string; close(): Promise<void> };

const require = createRequire(import.meta.url);

/** The third-party OpenAI-compatible mock server @dwmkerr/mock-llm, on a free port of 127.0.0.1, with these rules. */
export async function startMockLlm(rules: MockRule[]): Promise<MockLlm> {
  const { createServer } = require('@dwmkerr/mock-llm/dist/server.js') as { createServer: (config: unknown, host: string, port: number) => { listen: (port: number, host: string, done: () => void) => Server } };
  const app = createServer({ streaming: { chunkSize: 50, chunkIntervalMs: 0 }, rules }, '127.0.0.1', 0);
  const server = await new Promise<Server>((resolve) => {
    const listening: Server = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    openaiUrl: `${url}/v1`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A chat completion body as mock-llm replies it: no `usage` field, as its default rule answers. */
export function chatBody(message: Record<string, unknown>): string {
  return JSON.stringify({ id: 'chatcmpl-mock', object: 'chat.completion', model: 'mock', choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: 'stop' }] });
}
