import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, test } from 'vitest';
import { buildReport, loadReportInput, renderReport, wilson } from '../../src/report/index.ts';
import type { Report } from '../../src/report/index.ts';
import { clusteredRate } from '../../src/report/_stats.ts';
import type { Store } from '../../src/store/index.ts';
import { bench } from '../helpers/cli.ts';
import { attempt, tempStore } from './_fixture.ts';

let store: Store;
let remove: () => void;

beforeEach(() => {
  ({ store, remove } = tempStore());
});
afterEach(() => remove());

const SUITE = Array.from({ length: 31 }, (_, i) => `i${i + 1}`);

/** A run as `bench run` records it: what it planned, the agent of each config and their settings. */
function run(id: string, configs: Record<string, { settings: Record<string, unknown>; agent?: string; agentSettings?: Record<string, unknown> }>, options: Record<string, unknown> = {}, status: 'finished' | 'interrupted' | 'running' = 'finished'): void {
  const agents = Object.fromEntries(Object.entries(configs).map(([name, c]) => [name, { agent: c.agent ?? 'bash', ...(c.agentSettings ?? {}) }]));
  store.createRun({ id, createdAt: `2025-01-0${store.listRuns().length + 1}T00:00:00.000Z`, status, command: 'run', harnessVersion: '0.1.0', suite: 'builtin', agent: 'bash', options: { runs: 1, suiteInstances: 31, plannedInstances: SUITE, agents, ...options } });
  for (const [name, c] of Object.entries(configs)) store.saveConfigSnapshot(id, name, String(c.settings.model ?? name), c.settings);
}

function record(runId: string, configName: string, outcomes: string, options: { repeat?: number; agent?: string; costUsd?: number } = {}): void {
  [...outcomes].forEach((code, index) => {
    store.recordAttempt(attempt({ runId, configName, instanceId: `i${index + 1}`, repeat: options.repeat ?? 0, agent: options.agent ?? 'bash', outcome: code === 'r' ? 'resolved' : 'unresolved', costUsd: options.costUsd ?? 0.01 }));
  });
}

const full = (pattern: string) => pattern.repeat(Math.ceil(31 / pattern.length)).slice(0, 31);
const report = (ids: string[] = []): Report => buildReport(loadReportInput(store, ids));

describe('a report row is one experiment', () => {
  it('keeps runs of one config name with different agents and settings apart, named by what differs', () => {
    run('r1', { gpt3: { settings: { model: 'gpt-3.5-turbo', temperature: 0 }, agent: 'patch' } });
    run('r2', { gpt3: { settings: { model: 'gpt-3.5-turbo', temperature: 1.5 }, agent: 'bash' } });
    record('r1', 'gpt3', full('rru'), { agent: 'patch' });
    record('r2', 'gpt3', full('ruu'), { agent: 'bash' });
    const r = report(['r1', 'r2']);
    expect(r.configs.map((c) => c.config)).toEqual(['gpt3 (agent patch, temperature 0)', 'gpt3 (agent bash, temperature 1.5)']);
    expect(r.configs.map((c) => [c.total, c.repeats, c.passK])).toEqual([[31, 1, null], [31, 1, null]]);
    expect(r.configs[0]!.settingsHash).not.toBe(r.configs[1]!.settingsHash);
    expect(r.configs.map((c) => c.configName)).toEqual(['gpt3', 'gpt3']);
    expect(r.notes).toContainEqual(expect.stringMatching(/^Runs of one config name that differ .* separate rows/));
    // The second is compared with the first, instance by instance.
    expect(r.pairwise).toHaveLength(1);
    expect(r.pairwise[0]).toMatchObject({ baseline: 'gpt3 (agent patch, temperature 0)', config: 'gpt3 (agent bash, temperature 1.5)', paired: 31 });
    const table = renderReport(r, 'table', { width: 220 });
    expect(table).toContain('gpt3 (agent patch, temperature 0)');
    expect(table).toContain('gpt3 (agent bash, temperature 1.5)');
    expect(() => buildReport(loadReportInput(store, ['r1', 'r2']), { baseline: 'gpt3' })).toThrow(/2 rows named gpt3/);
  });

  it('tells rows apart by submission convention and agent settings too', () => {
    run('r1', { m: { settings: { model: 'x' }, agentSettings: { submit: 'explicit', max_steps: 50 } } });
    run('r2', { m: { settings: { model: 'x' }, agentSettings: { submit: 'autosubmit', max_steps: 50 } } });
    run('r3', { m: { settings: { model: 'x' }, agentSettings: { submit: 'autosubmit', max_steps: 250 } } });
    for (const id of ['r1', 'r2', 'r3']) record(id, 'm', full('ru'));
    const r = report(['r1', 'r2', 'r3']);
    expect(r.configs.map((c) => c.config)).toEqual(['m (submit explicit, agent.max_steps 50)', 'm (submit autosubmit, agent.max_steps 50)', 'm (submit autosubmit, agent.max_steps 250)']);
    expect(r.configs.map((c) => c.submit)).toEqual(['explicit', 'autosubmit', 'autosubmit']);
  });

  it('pools runs that agree on config, settings, agent and submission into one row', () => {
    run('r1', { a: { settings: { model: 'x', temperature: 0 } } }, { plannedInstances: SUITE.slice(0, 10) });
    run('r2', { a: { settings: { model: 'x', temperature: 0 } } }, { plannedInstances: SUITE.slice(0, 10) });
    record('r1', 'a', 'rrrrruuuuu');
    record('r2', 'a', 'rrrrrrrrru');
    const r = report(['r1', 'r2']);
    expect(r.configs).toHaveLength(1);
    expect(r.configs[0]).toMatchObject({ config: 'a', differs: [], total: 20, runIds: ['r1', 'r2'] });
  });
});

describe('partial runs say so in every format', () => {
  const formats = ['table', 'md', 'json', 'csv', 'html'] as const;

  it('a run stopped by --max-cost covers 7 of 31 and is never shown as complete', () => {
    run('cost', { a: { settings: { model: 'x' } } }, { maxCost: 0.05 });
    record('cost', 'a', 'rrrrrrr');
    const r = report(['cost']);
    const a = r.configs[0]!;
    expect(r.partial).toBe(true);
    expect(a.coverage).toEqual({ instances: 7, plannedInstances: 31, suiteInstances: 31, attempts: 7, plannedAttempts: 31, partial: true, reasons: ['run cost stopped at --max-cost $0.050: 7 of 31 attempts'] });
    const text = Object.fromEntries(formats.map((f) => [f, renderReport(r, f, { width: 200 })]));
    expect(text.table).toMatch(/Summary: run cost \(partial results\)/);
    expect(text.table).toMatch(/7\/31 partial/);
    expect(text.table).toMatch(/Partial results, not a full run of the suite: a covers 7 of 31 instances \(run cost stopped at --max-cost \$0\.050: 7 of 31 attempts\)/);
    expect(text.md).toMatch(/7\/31 partial/);
    expect(text.html).toMatch(/7\/31 partial/);
    expect(text.html).toMatch(/stopped at --max-cost/);
    expect(JSON.parse(text.json!).configs[0].coverage.partial).toBe(true);
    const [head, row] = text.csv!.split('\r\n');
    const header = head!.split(',');
    expect(row!.split(',')[header.indexOf('partial')]).toBe('true');
    expect(row!.split(',')[header.indexOf('covered_instances')]).toBe('7');
    expect(row!.split(',')[header.indexOf('suite_instances')]).toBe('31');
  });

  it('an interrupted run and a subset of the suite each give their reason', () => {
    run('ctrl-c', { a: { settings: { model: 'x' } } }, {}, 'interrupted');
    record('ctrl-c', 'a', 'ruru');
    run('subset', { b: { settings: { model: 'y' } } }, { plannedInstances: SUITE.slice(0, 5) });
    record('subset', 'b', 'rrrrr');
    expect(report(['ctrl-c']).configs[0]!.coverage.reasons).toEqual(['run ctrl-c interrupted: 4 of 31 attempts']);
    const b = report(['subset']).configs[0]!;
    expect(b.coverage).toMatchObject({ instances: 5, suiteInstances: 31, partial: true, reasons: ["a subset: 5 of the suite's 31 instances"] });
    expect(renderReport(report(['subset']), 'table', { width: 200 })).toMatch(/5\/31 partial/);
  });

  it('a complete run is not flagged', () => {
    run('whole', { a: { settings: { model: 'x' } } });
    record('whole', 'a', full('ru'));
    const r = report(['whole']);
    expect(r.partial).toBe(false);
    expect(r.configs[0]!.coverage.partial).toBe(false);
    expect(renderReport(r, 'table', { width: 200 })).not.toMatch(/partial/);
  });
});

describe('with --runs K the interval is over instances', () => {
  it('reads `5 instances × 3` and widens the interval when repeats agree with each other', () => {
    run('rep', { a: { settings: { model: 'x' } } }, { runs: 3, plannedInstances: SUITE.slice(0, 5), suiteInstances: 5 });
    // Each instance all-or-nothing: 15 attempts carry no more than 5 instances do.
    for (let repeat = 0; repeat < 3; repeat++) record('rep', 'a', 'rrruu', { repeat });
    const r = report(['rep']);
    const a = r.configs[0]!;
    expect(a).toMatchObject({ instances: 5, repeats: 3, total: 15, resolved: 9, interval: 'instances' });
    expect(a.rate).toBeCloseTo(0.6, 12);
    const overInstances = wilson(3, 5);
    expect(a.rateLow).toBeCloseTo(overInstances.low, 9);
    expect(a.rateHigh).toBeCloseTo(overInstances.high, 9);
    const naive = wilson(9, 15);
    expect(a.rateHigh - a.rateLow).toBeGreaterThan(naive.high - naive.low);
    expect(renderReport(r, 'table', { width: 200 })).toContain('5 instances × 3');
    expect(r.notes).toContainEqual(expect.stringContaining('a 5 instances × 3'));
  });

  it('clusteredRate is Wilson over attempts with one attempt each, and between instances and attempts otherwise', () => {
    const single = [1, 0, 1, 1, 0, 0, 0, 1, 1, 1].map((r) => ({ resolved: r, attempts: 1 }));
    const c = clusteredRate(single);
    const w = wilson(6, 10);
    expect([c.rate, c.low, c.high, c.effectiveN]).toEqual([0.6, expect.closeTo(w.low, 12), expect.closeTo(w.high, 12), expect.closeTo(10, 9)]);
    // Repeats that disagree within an instance are worth more than one trial each, never more than all attempts.
    const mixed = clusteredRate([{ resolved: 1, attempts: 2 }, { resolved: 1, attempts: 2 }, { resolved: 2, attempts: 2 }, { resolved: 0, attempts: 2 }]);
    expect(mixed.effectiveN).toBeGreaterThanOrEqual(4);
    expect(mixed.effectiveN).toBeLessThanOrEqual(8);
    expect(clusteredRate([{ resolved: 0, attempts: 3 }, { resolved: 0, attempts: 3 }])).toMatchObject({ rate: 0, low: 0, effectiveN: 2 });
  });
});

describe('bench report through the CLI', () => {
  const made: string[] = [];
  afterAll(() => {
    for (const d of made) rmSync(d, { recursive: true, force: true });
  });

  test('a real run of one instance is reported as a subset of the suite in every format', async () => {
    const work = mkdtempSync(join(tmpdir(), 'bench-partial-'));
    made.push(work);
    const db = join(work, 'bench.db');
    const env = { BENCH_RESULTS_DIR: join(work, 'results'), BENCH_CACHE_DIR: join(work, 'cache') };
    const ran = await bench(['run', '--instances', 'benchlab__csvkit-1', '--sandbox', 'local', '--run-id', 'one', '--db', db], { cwd: work, env });
    expect(ran.exitCode, ran.stderr).toBe(0);
    expect(ran.stdout).toMatch(/1\/31 partial/);
    for (const format of ['table', 'md', 'csv', 'json']) {
      const shown = await bench(['report', 'one', '--format', format, '--db', db], { cwd: work, env });
      expect(shown.exitCode, shown.stderr).toBe(0);
      expect(shown.stdout, format).toMatch(format === 'json' ? /"partial": true/ : format === 'csv' ? /,true,1,1,31,1,a subset: 1 of the suite's 31 instances/ : /1\/31 partial/);
    }
  }, 300_000);
});
