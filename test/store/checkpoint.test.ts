import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { Store } from '../../src/store/index.ts';
import { CHECKPOINTER_SAFETY_PAGES } from '../../src/store/_store.ts';
import { sampleAttempt } from '../helpers/attempts.ts';

describe('WAL checkpoints of a store that records attempts', () => {
  test('happen off the committing thread, and a closed store keeps every attempt and leaves no log', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'bench-checkpoint-')), 'bench.db');
    const store = Store.open(path);
    store.createRun({ id: 'run-1', createdAt: new Date().toISOString(), status: 'running', command: 'run', harnessVersion: '0.1.0', options: {} });
    const sizeBefore = statSync(path).size;
    // About 2 MB of trajectories: past the 1,000 pages at which a commit would checkpoint by itself by default.
    const big = 'x'.repeat(20_000);
    for (let i = 0; i < 100; i++) {
      store.recordAttempt({ ...sampleAttempt({ runId: 'run-1', instanceId: `i-${i}` }), trajectory: [{ kind: 'note', text: big }] } as never);
    }
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(CHECKPOINTER_SAFETY_PAGES);
    // The commits left the pages in the log; the checkpointer copies them into the file within seconds.
    let grown = false;
    for (let waited = 0; waited < 5000 && !grown; waited += 100) {
      grown = statSync(path).size > sizeBefore + 1_000_000;
      if (!grown) await sleep(100);
    }
    expect(grown).toBe(true);
    store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    const again = Store.open(path, { readonly: true });
    expect(again.attempts(['run-1'])).toHaveLength(100);
    again.close();
  });
});
