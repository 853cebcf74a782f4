import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { buildReport, loadReportInput, mcnemarExact, pairedDifference, renderReport, wilson } from '../../src/report/index.ts';
import type { Report } from '../../src/report/index.ts';
import type { Store } from '../../src/store/index.ts';
import { addRun, attempt, recordOutcomes, tempStore } from './_fixture.ts';

let store: Store;
let remove: () => void;

beforeEach(() => {
  ({ store, remove } = tempStore());
});
afterEach(() => remove());

/** Four configs on ten instances: r resolved, u unresolved, p patch_failed, t timeout, i infra_error, 0 empty_patch. */
function fourConfigs(): Report {
  addRun(store, 'run-1', { cheap: 'openai/gpt-4o-mini', 'claude-sonnet': 'anthropic/claude-sonnet-4', 'gpt-4o': 'openai/gpt-4o', 'local-qwen': 'ollama/qwen', 'pricey-bad': 'x/y' });
  recordOutcomes(store, 'run-1', 'cheap', 'rrruuuuuuu', { costUsd: 0.01 });
  recordOutcomes(store, 'run-1', 'claude-sonnet', 'rrrrrrrpuu', { costUsd: 0.8 });
  recordOutcomes(store, 'run-1', 'gpt-4o', 'rrrruupti0', { costUsd: 0.5, durationMs: 1000 });
  recordOutcomes(store, 'run-1', 'local-qwen', 'rruuuuuuuu', { costUsd: null });
  recordOutcomes(store, 'run-1', 'pricey-bad', 'rrruuuuuuu', { costUsd: 1.0 });
  return buildReport(loadReportInput(store, []));
}

const byName = (report: Report, name: string) => report.configs.find((c) => c.config === name)!;

describe('buildReport on a real store', () => {
  it('counts a tampered attempt as not resolved and names it, and every flagged attempt, in the notes', () => {
    addRun(store, 'run-t', { cheater: 'x/y' });
    recordOutcomes(store, 'run-t', 'cheater', 'r!u');
    store.recordAttempt(attempt({ runId: 'run-t', configName: 'cheater', instanceId: 'i4', outcome: 'resolved', grade: { flags: ['exit_or_io_hooks'] } }));
    const report = buildReport(loadReportInput(store, []));
    const cheater = byName(report, 'cheater');
    expect(cheater.outcomes.tampered).toBe(1);
    expect(cheater.resolved).toBe(2);
    expect(report.notes.join('\n')).toMatch(/Tampered .*cheater i2#\d+/);
    expect(report.notes.join('\n')).toMatch(/Flagged patches.*cheater i4#\d+ \[exit_or_io_hooks\] resolved/);
  });


  it('counts every outcome and rates resolves against all attempts', () => {
    const gpt = byName(fourConfigs(), 'gpt-4o');
    expect(gpt.total).toBe(10);
    expect(gpt.resolved).toBe(4);
    expect(gpt.outcomes).toEqual({ resolved: 4, unresolved: 2, patch_failed: 1, timeout: 1, malformed: 0, model_error: 0, infra_error: 1, empty_patch: 1, tampered: 0 });
    expect(gpt.rate).toBe(0.4);
    const interval = wilson(4, 10);
    expect([gpt.rateLow, gpt.rateHigh]).toEqual([interval.low, interval.high]);
    expect(gpt.rateExcludingInfra).toBeCloseTo(4 / 9, 12);
    expect(gpt.model).toBe('openai/gpt-4o');
    expect(gpt.meanDurationMs).toBe(1000);
    expect(gpt.p95DurationMs).toBe(1000);
    expect(gpt.calls).toBe(30);
    expect(gpt.tokensIn).toBe(10_000);
  });

  it('divides cost by tasks and by resolved tasks', () => {
    const claude = byName(fourConfigs(), 'claude-sonnet');
    expect(claude.costUnknown).toBe(false);
    expect(claude.totalCost).toBeCloseTo(8, 9);
    expect(claude.costPerTask).toBeCloseTo(0.8, 9);
    expect(claude.costPerResolved).toBeCloseTo(8 / 7, 9);
  });

  it('flags an unknown cost and never reports it as $0', () => {
    const report = fourConfigs();
    const qwen = byName(report, 'local-qwen');
    expect(qwen.costUnknown).toBe(true);
    expect(qwen.unknownCostAttempts).toBe(10);
    expect([qwen.totalCost, qwen.costPerTask, qwen.costPerResolved]).toEqual([null, null, null]);
    const row = renderReport(report, 'table', { width: 200 }).split('\n').find((line) => line.includes('│ local-qwen'))!;
    expect(row).toContain('unknown');
    expect(row).not.toMatch(/\$0\.00/);
    expect(report.notes).toContainEqual(expect.stringMatching(/^Cost unknown for some attempts .*: local-qwen 10 of 10\. .*never as \$0/));
  });

  it('treats a missing cost as unknown even when the attempt does not flag it', () => {
    addRun(store, 'run-1', { quiet: 'x/quiet' });
    store.recordAttempt(attempt({ runId: 'run-1', configName: 'quiet', instanceId: 'a', outcome: 'resolved', costUsd: null, costUnknown: false }));
    const quiet = byName(buildReport(loadReportInput(store, [])), 'quiet');
    expect(quiet).toMatchObject({ costUnknown: true, unknownCostAttempts: 1, totalCost: null, costPerTask: null });
  });

  it('shows a partly unknown cost as a lower bound with the count unknown', () => {
    addRun(store, 'run-1', { mixed: 'x/mixed' });
    store.recordAttempt(attempt({ runId: 'run-1', configName: 'mixed', instanceId: 'a', outcome: 'resolved', costUsd: 0.3 }));
    store.recordAttempt(attempt({ runId: 'run-1', configName: 'mixed', instanceId: 'b', outcome: 'unresolved', costUsd: null }));
    const report = buildReport(loadReportInput(store, []));
    const mixed = byName(report, 'mixed');
    expect(mixed.knownCost).toBeCloseTo(0.3, 12);
    expect(mixed.totalCost).toBeNull();
    const csv = renderReport(report, 'csv');
    expect(csv).toContain('≥ $0.300 (1 unknown)');
    expect(renderReport(report, 'md')).toContain('≥ $0.150');
  });

  it('compares each config with the first one on paired first attempts', () => {
    const report = fourConfigs();
    expect(report.baseline).toBe('cheap');
    const claude = report.pairwise.find((p) => p.config === 'claude-sonnet')!;
    expect(claude).toMatchObject({ baseline: 'cheap', paired: 10, wins: 4, losses: 0, ties: 6, baselineRate: 0.3, configRate: 0.7 });
    expect(claude.pValue).toBe(mcnemarExact(4, 0));
    expect(claude.pValue).toBeCloseTo(0.125, 12);
    const expected = pairedDifference(4, 0, 10);
    expect([claude.difference, claude.differenceLow, claude.differenceHigh]).toEqual([expected.difference, expected.low, expected.high]);
    const qwen = report.pairwise.find((p) => p.config === 'local-qwen')!;
    expect(qwen).toMatchObject({ wins: 0, losses: 1, ties: 9 });
  });

  it('compares against the baseline asked for and names the configs when it does not exist', () => {
    fourConfigs();
    const input = loadReportInput(store, []);
    const report = buildReport(input, { baseline: 'gpt-4o' });
    expect(report.pairwise.map((p) => p.config)).toEqual(['cheap', 'claude-sonnet', 'local-qwen', 'pricey-bad']);
    expect(report.pairwise[1]).toMatchObject({ wins: 3, losses: 0 });
    expect(() => buildReport(input, { baseline: 'gpt4o' })).toThrow(UserError);
    expect(() => buildReport(input, { baseline: 'gpt4o' })).toThrow(/Did you mean `gpt-4o`/);
  });

  it('marks each outcome in the per-instance matrix', () => {
    const { matrix } = fourConfigs();
    const column = matrix.configs.indexOf('gpt-4o');
    expect(matrix.rows.map((r) => r.instanceId).slice(0, 3)).toEqual(['i1', 'i2', 'i3']);
    expect(matrix.rows.map((r) => r.instanceId).at(-1)).toBe('i10');
    expect(matrix.rows.map((r) => r.cells[column]!.mark).join('')).toBe('✓✓✓✓✗✗PTI∅');
  });

  it('puts configs not beaten on cost and rate on the frontier and leaves out unknown costs', () => {
    const report = fourConfigs();
    expect(report.frontier).toEqual(['cheap', 'gpt-4o', 'claude-sonnet']);
    expect(report.frontierLeftOut).toEqual(['local-qwen']);
    expect(byName(report, 'pricey-bad')).toMatchObject({ onFrontier: false, beatenBy: 'claude-sonnet' });
    expect(byName(report, 'local-qwen')).toMatchObject({ onFrontier: false, beatenBy: null });
  });

  it('reports pass@1 and pass@k over repeats and counts resolved repeats in the matrix', () => {
    addRun(store, 'rep', { a: 'x/a' });
    // i1: 2 of 3 resolved, i2: 0 of 3, i3: 3 of 3.
    const plan: Record<string, string> = { i1: 'rru', i2: 'uuu', i3: 'rrr' };
    for (const [instanceId, outcomes] of Object.entries(plan)) {
      [...outcomes].forEach((code, repeat) => store.recordAttempt(attempt({ runId: 'rep', configName: 'a', instanceId, repeat, outcome: code === 'r' ? 'resolved' : 'unresolved' })));
    }
    const report = buildReport(loadReportInput(store, ['rep']));
    const a = byName(report, 'a');
    expect(a).toMatchObject({ repeats: 3, total: 9, resolved: 5, passK: 3 });
    expect(a.passAt1).toBeCloseTo((2 / 3 + 0 + 1) / 3, 12);
    expect(a.passAtK).toBeCloseTo(2 / 3, 12);
    expect(report.matrix.rows.map((r) => r.cells[0]!.mark)).toEqual(['2/3', '0/3', '3/3']);
    expect(report.notes.some((n) => n.startsWith('pass@k'))).toBe(false);
  });

  it('averages pass@k only over instances with k attempts and says so', () => {
    addRun(store, 'part', { a: 'x/a' });
    store.recordAttempt(attempt({ runId: 'part', configName: 'a', instanceId: 'i1', repeat: 0, outcome: 'unresolved' }));
    store.recordAttempt(attempt({ runId: 'part', configName: 'a', instanceId: 'i1', repeat: 1, outcome: 'resolved' }));
    store.recordAttempt(attempt({ runId: 'part', configName: 'a', instanceId: 'i2', repeat: 0, outcome: 'unresolved' }));
    const report = buildReport(loadReportInput(store, ['part']));
    expect(byName(report, 'a')).toMatchObject({ passK: 2, passKInstances: 1, passAtK: 1, passAt1: 0.25 });
    expect(report.notes).toContain('pass@k averages only over the instances with k attempts: a 1 of 2 (k=2).');
  });

  it('has no pass@k without repeats', () => {
    const cheap = byName(fourConfigs(), 'cheap');
    expect([cheap.passAt1, cheap.passAtK, cheap.passK]).toEqual([null, null, null]);
  });

  it('stays plain data that survives a JSON round trip', () => {
    const report = fourConfigs();
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });
});

describe('cost per role', () => {
  /** A call as the store keeps it; `cost: null` is an unknown cost. */
  const call = (seq: number, role: string, configName: string, model: string, costUsd: number | null) => ({
    seq, configName, role, provider: 'openai', model, status: 'ok' as const, tokensIn: 100, tokensOut: 10, tokensCacheRead: 0, tokensCacheWrite: 0,
    costUsd, latencyMs: 5, retries: 0, tries: [], cached: false,
  });

  it('names each role, its config and its cost in every format for a two-config row, and adds nothing to a one-config row', () => {
    addRun(store, 'run-1', { 'gpt3+high-creativity': 'gpt-3.5-turbo+gpt-4', solo: 'openai/gpt-4o' });
    for (const [i, writerCost] of [[1, 0.01], [2, 0.005]] as const) {
      store.recordAttempt(attempt({
        runId: 'run-1', instanceId: `i${i}`, configName: 'gpt3+high-creativity', agent: 'RepoExplorerAgent+CodeWriterAgent', outcome: 'resolved',
        costUsd: 0.0006 + writerCost, calls: 3,
        llmCalls: [call(0, 'explorer', 'gpt3', 'gpt-3.5-turbo', 0.0002), call(1, 'explorer', 'gpt3', 'gpt-3.5-turbo', 0.0004), call(2, 'writer', 'high-creativity', 'gpt-4', writerCost)],
      }));
    }
    store.recordAttempt(attempt({ runId: 'run-1', instanceId: 'i1', configName: 'solo', outcome: 'resolved', costUsd: 0.02, llmCalls: [call(0, 'main', 'solo', 'gpt-4o', 0.02)] }));
    const report = buildReport(loadReportInput(store, ['run-1']));
    expect(byName(report, 'gpt3+high-creativity').costByRole).toEqual([
      { role: 'explorer', config: 'gpt3', model: 'gpt-3.5-turbo', calls: 4, knownCost: 0.0012, costUnknown: false, unknownCalls: 0 },
      { role: 'writer', config: 'high-creativity', model: 'gpt-4', calls: 2, knownCost: 0.015, costUnknown: false, unknownCalls: 0 },
    ]);
    expect(byName(report, 'solo').costByRole).toEqual([]);

    const figure = 'explorer gpt3 $0.0012 · writer high-creativity $0.015';
    expect(renderReport(report, 'table', { width: 220 })).toContain(figure);
    expect(renderReport(report, 'md')).toContain(figure);
    expect(renderReport(report, 'html')).toContain(figure);
    const [header, pair, solo] = renderReport(report, 'csv').split('\r\n').map((line) => line.split(','));
    const column = header!.indexOf('cost_by_role');
    expect(pair![column]).toBe(figure);
    expect(solo![column]).toBe('');
    expect(JSON.parse(renderReport(report, 'json')).configs[0].costByRole[1]).toMatchObject({ role: 'writer', config: 'high-creativity', knownCost: 0.015 });
  });

  it('shows a role whose cost is partly unknown as a lower bound, and an all-unknown one as unknown, never $0', () => {
    addRun(store, 'run-1', { 'scout+local': 'gpt-4o-mini+ollama/qwen' });
    store.recordAttempt(attempt({
      runId: 'run-1', instanceId: 'i1', configName: 'scout+local', outcome: 'unresolved', costUsd: null,
      llmCalls: [call(0, 'explorer', 'scout', 'gpt-4o-mini', 0.001), call(1, 'explorer', 'scout', 'gpt-4o-mini', null), call(2, 'writer', 'local', 'qwen', null)],
    }));
    const report = buildReport(loadReportInput(store, ['run-1']));
    expect(renderReport(report, 'table', { width: 220 })).toContain('explorer scout ≥ $0.0010 · writer local unknown');
  });

  it('the main config beside an explorer (the patch agent) is a role of its own', () => {
    addRun(store, 'run-1', { coder: 'openai/gpt-4o' });
    store.recordAttempt(attempt({
      runId: 'run-1', instanceId: 'i1', configName: 'coder', agent: 'patch', outcome: 'resolved', costUsd: 0.0301,
      llmCalls: [call(0, 'explorer', 'scout', 'gpt-4o-mini', 0.0001), call(1, 'main', 'coder', 'gpt-4o', 0.03)],
    }));
    expect(buildReport(loadReportInput(store, ['run-1'])).configs[0]!.costByRole.map((r) => [r.role, r.config, r.knownCost])).toEqual([['explorer', 'scout', 0.0001], ['main', 'coder', 0.03]]);
  });
});

describe('a run without attempts', () => {
  it('reports no configs and still renders in every format', () => {
    addRun(store, 'empty', { a: 'x/a' }, undefined, 'running');
    const report = buildReport(loadReportInput(store, []));
    expect(report.configs).toEqual([]);
    expect(report.baseline).toBeNull();
    expect(report.notes).toContainEqual(expect.stringContaining('No attempts recorded yet for a'));
    for (const format of ['table', 'md', 'json', 'csv', 'html'] as const) expect(renderReport(report, format, { width: 80 }).length).toBeGreaterThan(10);
  });
});

describe('loadReportInput', () => {
  it('reads the latest run when no run is named', () => {
    addRun(store, 'old', { a: 'x/a' }, '2025-01-01T00:00:00.000Z');
    addRun(store, 'new', { b: 'x/b' }, '2025-02-01T00:00:00.000Z');
    recordOutcomes(store, 'old', 'a', 'r');
    recordOutcomes(store, 'new', 'b', 'uu');
    const input = loadReportInput(store, []);
    expect(input.runs.map((r) => r.id)).toEqual(['new']);
    expect(input.attempts).toHaveLength(2);
    expect(input.snapshots).toEqual([{ runId: 'new', name: 'b', model: 'x/b', settings: { model: 'x/b', temperature: 0 } }]);
  });

  it('accepts a unique prefix of a run id and pools a config across runs', () => {
    addRun(store, '2025-01-01-abc', { a: 'x/a' }, '2025-01-01T00:00:00.000Z');
    addRun(store, '2025-02-01-def', { a: 'x/a', b: 'x/b' }, '2025-02-01T00:00:00.000Z', 'interrupted');
    recordOutcomes(store, '2025-01-01-abc', 'a', 'ru');
    recordOutcomes(store, '2025-02-01-def', 'a', 'rr');
    recordOutcomes(store, '2025-02-01-def', 'b', 'ur');
    const report = buildReport(loadReportInput(store, ['2025-01', '2025-02-01-def']));
    const a = byName(report, 'a');
    expect(a).toMatchObject({ total: 4, resolved: 3, instances: 2, repeats: 2, runIds: ['2025-01-01-abc', '2025-02-01-def'] });
    // The pairwise comparison takes the earliest run's attempt: a resolved i1 only.
    expect(report.pairwise[0]).toMatchObject({ config: 'b', wins: 1, losses: 1, ties: 0 });
    expect(report.notes).toContain('Attempts pooled over several runs: a (2025-01-01-abc, 2025-02-01-def).');
    expect(report.notes).toContainEqual(expect.stringContaining('Run 2025-02-01-def was interrupted'));
  });

  it('names an unknown run id and suggests the nearest', () => {
    addRun(store, 'run-alpha', { a: 'x/a' });
    expect(() => loadReportInput(store, ['run-alpah'])).toThrow(/No run `run-alpah`.*Did you mean `run-alpha`/);
  });

  it('says a store without runs has nothing to report', () => {
    expect(() => loadReportInput(store, [])).toThrow(UserError);
  });

  it('refuses an ambiguous prefix', () => {
    addRun(store, 'run-1', { a: 'x/a' });
    addRun(store, 'run-2', { a: 'x/a' });
    expect(() => loadReportInput(store, ['run-'])).toThrow(/ambiguous/);
  });
});
