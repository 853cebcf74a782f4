/**
 * The oracle model in a process of its own, as a real provider is: its CPU is not the harness's.
 *   node scripts/_oracle-process.ts LATENCY_MS
 * Prints `{"url": ...}` once listening; each `requests` line on stdin is answered with the arrival
 * times of the requests so far (`{"receivedAt": [...]}`); it exits when stdin closes.
 */
import { createInterface } from 'node:readline';
import { startOracleModel } from '../test/helpers/oracle-model.ts';

const latencyMs = Number(process.argv[2] ?? 0);
const oracle = await startOracleModel({ latencyMs, usage: { input: 1000, output: 100 } });
process.stdout.write(`${JSON.stringify({ url: oracle.openaiUrl })}\n`);
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (line.trim() === 'requests') process.stdout.write(`${JSON.stringify({ receivedAt: oracle.requests.map((r) => r.receivedAt), answeredAt: oracle.requests.map((r) => r.answeredAt ?? null) })}\n`);
});
lines.on('close', () => void oracle.close().then(() => process.exit(0)));
