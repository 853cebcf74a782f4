import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { Store } from '../../src/store/index.ts';
import { bench } from '../helpers/cli.ts';
import { attempt } from '../report/_fixture.ts';

let work: string;
let db: string;
let env: Record<string, string>;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'bench-runs-'));
  db = join(work, 'bench.db');
  env = { BENCH_RESULTS_DIR: join(work, 'results') };
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

/** A real store holding two runs: a finished one and one stopped at 2 of its 4 attempts. */
function twoRuns(): void {
  const store = Store.open(db);
  const plan = (ids: string[]) => ({ runs: 1, plannedInstances: ids, suiteInstances: 31, agents: { a: { agent: 'bash' }, b: { agent: 'bash' } } });
  store.createRun({ id: 'first', createdAt: '2025-03-01T10:00:00.000Z', status: 'finished', command: 'run', harnessVersion: '0.1.0', suite: 'builtin', agent: 'bash', options: plan(['x', 'y']) });
  store.createRun({ id: 'second', createdAt: '2025-03-02T11:30:00.000Z', status: 'interrupted', command: 'run', harnessVersion: '0.1.0', suite: 'builtin', agent: 'bash', options: plan(['x', 'y']) });
  for (const id of ['first', 'second']) for (const name of ['a', 'b']) store.saveConfigSnapshot(id, name, `m/${name}`, { model: `m/${name}` });
  const add = (runId: string, configName: string, instanceId: string, outcome: 'resolved' | 'unresolved', costUsd: number | null) =>
    store.recordAttempt(attempt({ runId, configName, instanceId, outcome, costUsd, tests: [{ testId: 't1', status: 'PASSED', expectation: 'FAIL_TO_PASS' }], llmCalls: [{ seq: 0, configName, role: 'main', status: 'ok', tokensIn: 1, tokensOut: 1, tokensCacheRead: 0, tokensCacheWrite: 0, costUsd, latencyMs: 1, retries: 0, tries: [], cached: false }] }));
  add('first', 'a', 'x', 'resolved', 0.25);
  add('first', 'a', 'y', 'unresolved', 0.25);
  add('first', 'b', 'x', 'resolved', 0.5);
  add('first', 'b', 'y', 'resolved', 0.5);
  add('second', 'a', 'x', 'resolved', 0.1);
  add('second', 'b', 'x', 'unresolved', null);
  store.close();
}

function count(sql: string, ...params: unknown[]): number {
  const raw = new Database(db, { readonly: true });
  try {
    return (raw.prepare(sql).get(...params) as { n: number }).n;
  } finally {
    raw.close();
  }
}

describe('bench runs', () => {
  test('lists every run with its date, status, configs, attempts of those planned, resolved and cost', async () => {
    twoRuns();
    const result = await bench(['runs', '--db', db], { cwd: work, env });
    expect(result.exitCode, result.stderr).toBe(0);
    const first = result.stdout.split('\n').find((l) => l.includes('first'))!;
    expect(first).toMatch(/first\s+│ 2025-03-01 10:00 │ finished\s+│ a, b\s+│\s+4\/4 │\s+3 │\s+\$1\.50/);
    const second = result.stdout.split('\n').find((l) => l.includes('second'))!;
    expect(second).toMatch(/second\s+│ 2025-03-02 11:30 │ interrupted\s+│ a, b\s+│\s+2\/4 │\s+1 │\s+≥ \$0\.100/);
    expect(result.stdout).toContain('2 runs;');
    const json = JSON.parse((await bench(['runs', '--json', '--db', db], { cwd: work, env })).stdout);
    expect(json.map((r: { id: string; attempts: number; planned: number }) => [r.id, r.attempts, r.planned])).toEqual([['first', 4, 4], ['second', 2, 4]]);
  }, 180_000);

  test('with no database it says how to make one, and creates nothing', async () => {
    const result = await bench(['runs', '--db', db], { cwd: work, env });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/No results database at .*bench\.db\. Run `bench run`/);
    expect(existsSync(db)).toBe(false);
    const rm = await bench(['runs', 'rm', 'x', '--db', db], { cwd: work, env });
    expect(rm.exitCode).toBe(2);
    expect(existsSync(db)).toBe(false);
  }, 180_000);

  test('rm deletes one run with its attempts, tests, calls, snapshots and folder, and leaves the other whole', async () => {
    twoRuns();
    const folder = join(work, 'results', 'runs', 'first');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'report.json'), '{}');
    const result = await bench(['runs', 'rm', 'fir', '--db', db], { cwd: work, env });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(`deleted run first: 4 attempts with their tests and calls, and ${folder}.`);
    expect(existsSync(folder)).toBe(false);
    expect(count("SELECT COUNT(*) AS n FROM runs WHERE id = 'first'")).toBe(0);
    expect(count("SELECT COUNT(*) AS n FROM attempts WHERE run_id = 'first'")).toBe(0);
    expect(count("SELECT COUNT(*) AS n FROM config_snapshots WHERE run_id = 'first'")).toBe(0);
    expect(count('SELECT COUNT(*) AS n FROM test_results')).toBe(2);
    expect(count('SELECT COUNT(*) AS n FROM llm_calls')).toBe(2);
    expect(count("SELECT COUNT(*) AS n FROM attempts WHERE run_id = 'second'")).toBe(2);
    const list = await bench(['runs', '--db', db], { cwd: work, env });
    expect(list.stdout).not.toContain('first');
    expect(list.stdout).toContain('1 run;');
    // The report of the other run is untouched.
    expect((await bench(['report', 'second', '--db', db], { cwd: work, env })).exitCode).toBe(0);
  }, 180_000);

  test('rm names an unknown run, refuses a running one without --force, and deletes it with', async () => {
    twoRuns();
    const unknown = await bench(['runs', 'rm', 'secnod', '--db', db], { cwd: work, env });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/No run `secnod`.*Did you mean `second`/);
    const store = Store.open(db);
    store.updateRunStatus('second', 'running');
    store.close();
    const refused = await bench(['runs', 'rm', 'second', '--db', db], { cwd: work, env });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/marked running.*--force/);
    expect(count("SELECT COUNT(*) AS n FROM attempts WHERE run_id = 'second'")).toBe(2);
    const forced = await bench(['runs', 'rm', 'second', '--force', '--db', db], { cwd: work, env });
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(count("SELECT COUNT(*) AS n FROM attempts WHERE run_id = 'second'")).toBe(0);
  }, 180_000);
});
