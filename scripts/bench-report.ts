// Times the store's write path and the report path on a large temp store.
// Usage: node scripts/bench-report.ts [configs=5] [instances=500] [repeats=40] [pipelines=0]
// `pipelines` of the configs are explorer-then-writer rows (3 calls: 2 explorer, 1 writer), whose
// report reads the cost per role. The report path is timed REPORT_REPEATS times on the same store.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Store, OUTCOMES } from '../src/store/index.ts';
import type { AttemptRecord, Outcome } from '../src/store/index.ts';
import { buildReport, loadReportInput, renderReport } from '../src/report/index.ts';

const [configCount = 5, instanceCount = 500, repeatCount = 40, pipelineCount = 0] = process.argv.slice(2).map(Number);
const REPORT_REPEATS = 5;
const dir = mkdtempSync(join(tmpdir(), 'bench-report-perf-'));
const store = Store.open(join(dir, 'bench.db'));

try {
  const runId = 'perf-run';
  store.createRun({ id: runId, createdAt: new Date().toISOString(), status: 'finished', command: 'run', harnessVersion: '0.1.0', suite: 'perf', agent: 'mini', options: {} });
  const configs = Array.from({ length: configCount }, (_, i) => `config-${i + 1}`);
  for (const [i, name] of configs.entries()) store.saveConfigSnapshot(runId, name, `provider/model-${i + 1}`, { temperature: 0 });

  // A small deterministic generator, so every run of this script writes the same attempts.
  let seed = 42;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

  const total = configCount * instanceCount * repeatCount;
  const perAttemptMs: number[] = [];
  const started = performance.now();
  for (let repeat = 0; repeat < repeatCount; repeat++) {
    for (let instance = 0; instance < instanceCount; instance++) {
      for (const [c, configName] of configs.entries()) {
        const record = sampleAttempt(runId, `repo__project-${instance + 1}`, configName, repeat, c, random, c >= configCount - pipelineCount);
        const t0 = performance.now();
        store.recordAttempt(record);
        perAttemptMs.push(performance.now() - t0);
      }
    }
  }
  const writeSeconds = (performance.now() - started) / 1000;
  perAttemptMs.sort((a, b) => a - b);
  const mean = perAttemptMs.reduce((sum, ms) => sum + ms, 0) / perAttemptMs.length;
  const p99 = perAttemptMs[Math.ceil(0.99 * perAttemptMs.length) - 1]!;

  type Timing = { load: number; build: number; render: number; total: number; roles: number };
  const timings: Timing[] = [];
  let table = '';
  for (let i = 0; i < REPORT_REPEATS; i++) {
    const t0 = performance.now();
    const input = loadReportInput(store, [runId]);
    const t1 = performance.now();
    const report = buildReport(input);
    const t2 = performance.now();
    table = renderReport(report, 'table', { width: 100, color: false });
    const t3 = performance.now();
    // The cost-per-role query alone (it is part of loadReportInput).
    store.roleCosts([runId]);
    const roles = performance.now() - t3;
    timings.push({ load: t1 - t0, build: t2 - t1, render: t3 - t2, total: t3 - t0, roles });
  }
  timings.sort((a, b) => a.total - b.total);
  const [fastest, middle, slowest] = [timings[0]!, timings[Math.floor(timings.length / 2)]!, timings[timings.length - 1]!];

  const lines = [
    `attempts written: ${total} (${configCount} configs, ${pipelineCount} of them explorer-then-writer, x ${instanceCount} instances x ${repeatCount} repeats), one transaction each, 4 test results and 3 LLM calls per attempt`,
    `write: mean ${mean.toFixed(3)} ms, median ${perAttemptMs[Math.floor(perAttemptMs.length / 2)]!.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms per attempt (${writeSeconds.toFixed(1)} s in all)   target < 1 ms`,
    `report (${REPORT_REPEATS} times): min ${fastest.total.toFixed(0)} / median ${middle.total.toFixed(0)} / max ${slowest.total.toFixed(0)} ms   target < 2000 ms`,
    `  at the median: loadReportInput ${middle.load.toFixed(0)} ms (cost per role query ${middle.roles.toFixed(1)} ms) + buildReport ${middle.build.toFixed(0)} ms + render table ${middle.render.toFixed(0)} ms`,
    `table output: ${table.split('\n').length} lines`,
    commandFigures(store.path, runId),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  process.exitCode = mean < 1 && middle.total < 2000 ? 0 : 1;
} finally {
  store.close();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * `bench report` as a user runs it, a process of its own on the same store: wall time and peak
 * resident memory (its own getrusage at exit), min / median / max over REPORT_REPEATS.
 */
function commandFigures(db: string, runId: string): string {
  const bin = join(dirname(import.meta.dirname), 'bin', 'bench.js');
  // NODE_OPTIONS splits at spaces: the module's text is URL-encoded.
  const peak = `data:text/javascript,${encodeURIComponent("process.on('exit', () => process.stderr.write(`peak-rss-kb ${process.resourceUsage().maxRSS}\\n`))")}`;
  const wall: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < REPORT_REPEATS; i++) {
    const started = performance.now();
    const { stderr: output, status } = spawnSync(process.execPath, [bin, 'report', runId, '--db', db], {
      encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_OPTIONS: `--import=${peak}`, COLUMNS: '100' },
    });
    if (status !== 0) throw new Error(`bench report exited ${status}: ${output}`);
    wall.push(performance.now() - started);
    rss.push(Number(/peak-rss-kb (\d+)/.exec(output)?.[1] ?? NaN) / 1024);
  }
  const spread = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return `${sorted[0]!.toFixed(0)} / ${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} / ${sorted.at(-1)!.toFixed(0)}`;
  };
  return `bench report as a process (${REPORT_REPEATS} times, min / median / max): wall ${spread(wall)} ms, peak RSS ${spread(rss)} MB`;
}

function sampleAttempt(runId: string, instanceId: string, configName: string, repeat: number, c: number, random: () => number, pipeline: boolean): AttemptRecord {
  // Better configs resolve more and cost more, so the frontier has something to show.
  const roll = random();
  const resolveChance = 0.3 + 0.1 * c;
  const outcome: Outcome = roll < resolveChance ? 'resolved' : OUTCOMES[1 + Math.floor(random() * (OUTCOMES.length - 1))]!;
  const durationMs = 20_000 + random() * 200_000;
  const costUsd = c === configCount - 1 ? null : 0.02 * (c + 1) * (0.5 + random());
  return {
    runId, instanceId, instanceHash: 'h', configName, repeat, agent: 'mini', outcome, resolution: outcome === 'resolved' ? 'FULL' : 'NO',
    resolved: outcome === 'resolved', patch: 'diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n', patchHash: `p${roll}`,
    malformedCount: 0, costUsd, costUnknown: costUsd === null, tokensIn: 20_000, tokensOut: 1500, tokensCacheRead: 5000, tokensCacheWrite: 0,
    calls: 3, retries: 0, infraRetries: 0, startedAt: '2025-01-01T00:00:00.000Z', finishedAt: '2025-01-01T00:01:00.000Z', durationMs,
    agentMs: durationMs * 0.8, gradeMs: durationMs * 0.2, grade: { resolved: outcome === 'resolved' }, exitReason: 'submitted',
    tests: ['test_a', 'test_b', 'test_c', 'test_d'].map((testId, i) => ({ testId, status: outcome === 'resolved' || i > 0 ? 'PASSED' : 'FAILED', expectation: i === 0 ? 'FAIL_TO_PASS' : 'PASS_TO_PASS' })),
    llmCalls: [1, 2, 3].map((seq) => ({
      seq, configName: pipeline ? (seq < 3 ? 'scout' : 'writer') : configName, role: pipeline ? (seq < 3 ? 'explorer' : 'writer') : 'main', provider: 'provider', model: 'model', status: 'ok', tokensIn: 6000, tokensOut: 500, tokensCacheRead: 0,
      tokensCacheWrite: 0, costUsd: costUsd === null ? null : costUsd / 3, latencyMs: 2000, retries: 0, tries: [], requestHash: `r${seq}`, cached: false,
    })),
  };
}
