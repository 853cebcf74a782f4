import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../src/store/index.ts';
import type { AttemptRecord, Outcome } from '../../src/store/index.ts';

/** A real store in a fresh temp dir; `remove` closes it and deletes the dir. */
export function tempStore(): { store: Store; dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
  const store = Store.open(join(dir, 'bench.db'));
  return { store, dir, remove: () => { store.close(); rmSync(dir, { recursive: true, force: true }); } };
}

export function addRun(store: Store, id: string, configs: Record<string, string | undefined>, createdAt = '2025-01-01T00:00:00.000Z', status: 'running' | 'finished' | 'interrupted' | 'failed' = 'finished'): void {
  store.createRun({ id, createdAt, status, command: 'run', harnessVersion: '0.1.0', suite: 'mini', agent: 'mini', options: {} });
  for (const [name, model] of Object.entries(configs)) store.saveConfigSnapshot(id, name, model, { model, temperature: 0 });
}

type AttemptShape = { runId: string; instanceId: string; configName: string; outcome: Outcome } & Partial<AttemptRecord>;

/** A complete attempt record with plain defaults; `cost: null` marks the cost unknown. */
export function attempt(shape: AttemptShape): AttemptRecord {
  const costUsd = shape.costUsd === undefined ? 0.1 : shape.costUsd;
  return {
    repeat: 0, agent: 'mini', resolved: shape.outcome === 'resolved', malformedCount: 0, costUnknown: costUsd === null,
    tokensIn: 1000, tokensOut: 100, tokensCacheRead: 0, tokensCacheWrite: 0, calls: 3, retries: 0, infraRetries: 0,
    startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:00:10.000Z', durationMs: 10_000, agentMs: 8000, gradeMs: 2000,
    tests: [], llmCalls: [],
    ...shape,
    costUsd,
  };
}

/** Records one attempt per letter of `outcomes` for instances i1, i2, ...: r resolved, u unresolved, p patch_failed, t timeout, m malformed, e model_error, i infra_error, 0 empty_patch, ! tampered. */
export function recordOutcomes(store: Store, runId: string, configName: string, outcomes: string, extra: Partial<AttemptRecord> = {}): void {
  const codes: Record<string, Outcome> = { r: 'resolved', u: 'unresolved', p: 'patch_failed', t: 'timeout', m: 'malformed', e: 'model_error', i: 'infra_error', '0': 'empty_patch', '!': 'tampered' };
  [...outcomes].forEach((code, index) => {
    const outcome = codes[code];
    if (!outcome) throw new Error(`unknown outcome code ${code}`);
    store.recordAttempt(attempt({ runId, configName, instanceId: `i${index + 1}`, outcome, ...extra }));
  });
}
