import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { Store, resolveDbPath } from '../../src/store/index.ts';
import { UserError } from '../../src/errors.ts';
import { sampleAttempt } from '../helpers/attempts.ts';
import { PROJECT_ROOT } from '../helpers/cli.ts';
import { execa } from 'execa';

function tempDb(): string {
  return join(mkdtempSync(join(tmpdir(), 'bench-store-')), 'bench.db');
}

function newRun(store: Store, id = 'run-1'): void {
  store.createRun({ id, createdAt: new Date().toISOString(), status: 'running', command: 'run', harnessVersion: '0.1.0', options: {} });
}

describe('store', () => {
  test('a new database is migrated to the current schema version and uses WAL', () => {
    const path = tempDb();
    Store.open(path).close();
    const raw = new Database(path, { readonly: true });
    expect(raw.pragma('user_version', { simple: true })).toBe(2);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((r) => (r as { name: string }).name);
    expect(tables).toEqual(expect.arrayContaining(['runs', 'config_snapshots', 'instances', 'attempts', 'test_results', 'llm_calls', 'grades']));
    raw.close();
  });

  test('an attempt with its tests and calls is written and read back whole', () => {
    const store = Store.open(tempDb());
    newRun(store);
    const id = store.recordAttempt(sampleAttempt())!;
    const back = store.attempt(id)!;
    expect(back).toMatchObject({ outcome: 'resolved', costUsd: 0.0125, tokensIn: 1200, retries: 1, patch: 'diff --git a/x b/x\n' });
    expect(back.tests).toEqual([{ testId: 'test/a.test.js::a::works', status: 'PASSED', expectation: 'FAIL_TO_PASS' }]);
    expect(back.llmCalls[0]).toMatchObject({ errorClass: null, retries: 1, costUsd: 0.0125 });
    expect(store.completedKeys('run-1').size).toBe(1);
    store.close();
  });

  test('the same (run, instance, config, repeat) is never recorded twice, and a redelivered attempt writes nothing', () => {
    const store = Store.open(tempDb());
    newRun(store);
    expect(store.recordAttempt(sampleAttempt())).toEqual(expect.any(Number));
    expect(store.recordAttempt(sampleAttempt({ tests: [{ testId: 'other', status: 'FAILED', expectation: null }] }))).toBeNull();
    expect(store.db.prepare('SELECT count(*) AS n FROM test_results').get()).toEqual({ n: 1 });
    expect(store.db.prepare('SELECT count(*) AS n FROM attempts').get()).toEqual({ n: 1 });
    store.close();
  });

  test('an unknown cost is stored as NULL, not zero', () => {
    const store = Store.open(tempDb());
    newRun(store);
    const id = store.recordAttempt(sampleAttempt({ costUsd: null, costUnknown: true }))!;
    expect(store.attempt(id)).toMatchObject({ costUsd: null, costUnknown: true });
    store.close();
  });

  test('grades are keyed on the patch hash, so a changed patch is not served a stale grade', () => {
    const store = Store.open(tempDb());
    store.saveGrade('i-1', 'ih', 'patch-a', 'bwrap', { outcome: 'resolved', grade: { resolved: true } });
    expect(store.findGrade('i-1', 'ih', 'patch-a')).toEqual({ outcome: 'resolved', grade: { resolved: true } });
    expect(store.findGrade('i-1', 'ih', 'patch-b')).toBeUndefined();
    store.close();
  });

  test('opening read-only never creates a file', () => {
    const path = tempDb();
    expect(() => Store.open(path, { readonly: true })).toThrow(UserError);
    expect(existsSync(path)).toBe(false);
  });

  test('a database path in a read-only directory is a clear error and creates nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-ro-'));
    const readonlyDir = join(dir, 'locked');
    mkdirSync(readonlyDir);
    chmodSync(readonlyDir, 0o555);
    const path = join(readonlyDir, 'sub', 'bench.db');
    const script = `import('${join(PROJECT_ROOT, 'src/store/index.ts')}').then(({ Store }) => { try { Store.open(${JSON.stringify(path)}); } catch (e) { console.log(e.message); } })`;
    // root ignores permission bits, so make the folder truly read-only with a bubblewrap bind mount.
    const command = process.getuid?.() === 0
      ? ['bwrap', ['--bind', '/', '/', '--ro-bind', readonlyDir, readonlyDir, '--dev', '/dev', '--proc', '/proc', process.execPath, '-e', script]] as const
      : [process.execPath, ['-e', script]] as const;
    const { stdout } = await execa(command[0], [...command[1]]);
    expect(stdout).toMatch(/cannot be written.*--db PATH/);
    expect(readdirSync(readonlyDir)).toEqual([]);
  });

  test('the path comes from --db, then $BENCH_DB, then results/bench.db', () => {
    expect(resolveDbPath('x.db', { BENCH_DB: 'y.db' }, '/w')).toBe('/w/x.db');
    expect(resolveDbPath(undefined, { BENCH_DB: 'y.db' }, '/w')).toBe('/w/y.db');
    expect(resolveDbPath(undefined, {}, '/w')).toBe('/w/results/bench.db');
  });
});
