import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, didYouMean } from '../errors.ts';
import { withoutSecrets } from '../config/index.ts';
import type { Store } from '../store/index.ts';
import { roleCostsOfCalls, wilson } from '../report/index.ts';
import { sha256 } from '../tasks/index.ts';
import { HARNESS_VERSION, gitCommit } from '../version.ts';
import { safeName, writeFileAtomic } from './_files.ts';
import type { ResultsFile } from './_results-file.ts';

/** An attempt whose patch never reached a grader (its episode failed in the sandbox): nothing to re-grade. */
export const NOT_GRADED = 'not_graded';

/** Builds the contributed results file for one config of one run, from the store alone. */
export function exportRun(store: Store, runId: string, configName: string): { file: ResultsFile; predictions: string } {
  const run = store.getRun(runId);
  if (!run) throw new UserError(`No run \`${runId}\` in ${store.path}.${didYouMean(runId, store.listRuns().map((r) => r.id))}`);
  const snapshots = store.configSnapshots(runId);
  const snapshot = snapshots.find((s) => s.name === configName);
  if (!snapshot) throw new UserError(`Run ${runId} has no config \`${configName}\`.${didYouMean(configName, snapshots.map((s) => s.name))} Configs in it: ${snapshots.map((s) => s.name).join(', ')}.`);
  const rows = store.attempts([runId]).filter((a) => a.configName === configName);
  const instances = rows.map((row) => {
    const full = store.attempt(row.id)!;
    const grade = full.grade as { outcome?: string; tests?: Record<string, string> } | undefined;
    const roles = roleCostsOfCalls(full.llmCalls);
    return {
      instance_id: row.instanceId, instance_hash: row.instanceHash ?? null, repeat: row.repeat, patch: full.patch, patch_hash: full.patch ? sha256(full.patch) : null,
      outcome: row.outcome, grade_outcome: grade?.outcome ?? NOT_GRADED, resolved: row.resolved, tests: grade?.tests ?? {},
      tokens: { input: row.tokensIn, output: row.tokensOut, cache_read: row.tokensCacheRead, cache_write: row.tokensCacheWrite },
      cost_usd: row.costUnknown ? null : row.costUsd, duration_ms: Math.round(row.durationMs),
      ...(roles.length > 0 ? { cost_by_role: roles.map((r) => ({ role: r.role, config: r.config, model: r.model, calls: r.calls, cost_usd: r.costUnknown ? null : r.knownCost })) } : {}),
    };
  });
  const agentSettings = ((run.options.agents as Record<string, Record<string, unknown>> | undefined)?.[configName]) ?? { agent: run.agent };
  const file: ResultsFile = {
    format: 'bench-results/1',
    harness: { version: HARNESS_VERSION, git_commit: gitCommit() },
    run_id: runId,
    created_at: run.createdAt,
    suite: {
      name: run.suite ?? 'unknown', hash: run.suiteHash ?? '', instances: new Set(instances.map((i) => i.instance_id)).size,
      ...(typeof run.options.suiteInstances === 'number' ? { total_instances: run.options.suiteInstances } : {}),
    },
    // Masked again here: a store written before URLs were masked must not leak through an export.
    config: { name: configName, model: snapshot.model, settings: withoutSecrets(snapshot.settings) },
    agent: { name: String(agentSettings.agent ?? run.agent ?? 'unknown'), settings: agentSettings },
    instances,
    summary: summarize(instances),
    verifications: [],
  };
  const model = snapshot.model ?? configName;
  const predictions = instances.filter((i) => i.repeat === 0)
    .map((i) => JSON.stringify({ instance_id: i.instance_id, model_name_or_path: model, model_patch: i.patch ?? '' })).join('\n');
  return { file, predictions: predictions ? `${predictions}\n` : '' };
}

export function summarize(instances: ResultsFile['instances']): ResultsFile['summary'] {
  const total = instances.length;
  const resolved = instances.filter((i) => i.resolved).length;
  const interval = wilson(resolved, total);
  const costUnknown = instances.some((i) => i.cost_usd === null);
  const totalCost = costUnknown ? null : instances.reduce((sum, i) => sum + (i.cost_usd ?? 0), 0);
  return {
    total, resolved, rate: total ? resolved / total : 0, rate_low: interval.low, rate_high: interval.high,
    total_cost: totalCost, cost_per_task: totalCost === null || !total ? null : totalCost / total,
    cost_per_resolved: totalCost === null || !resolved ? null : totalCost / resolved, cost_unknown: costUnknown,
  };
}

/** `<date>_<model>_<agent>` with only file-name-safe characters. */
export function exportName(file: ResultsFile): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '') || 'unknown';
  return `${file.created_at.slice(0, 10)}_${safe(file.config.model ?? file.config.name)}_${safe(file.agent.name)}`;
}

/**
 * `bench export`: the results file and SWE-bench's all_preds.jsonl beside it, in `folder`. Two
 * configs of one model (or two runs on one day) never overwrite each other's file.
 */
export function writeExport(store: Store, runId: string, configName: string, folder: string): { path: string; predictionsPath: string; file: ResultsFile } {
  const { file, predictions } = exportRun(store, runId, configName);
  let base = join(folder, exportName(file));
  if (existsSync(`${base}.json`) && !sameExport(`${base}.json`, file.run_id, file.config.name)) {
    base = join(folder, `${exportName(file)}_${safeName(file.config.name)}_${safeName(file.run_id)}`);
  }
  writeFileAtomic(`${base}.json`, `${JSON.stringify(file, null, 2)}\n`);
  writeFileAtomic(`${base}.all_preds.jsonl`, predictions);
  return { path: `${base}.json`, predictionsPath: `${base}.all_preds.jsonl`, file };
}

function sameExport(path: string, runId: string, config: string): boolean {
  try {
    const existing = JSON.parse(readFileSync(path, 'utf8')) as { run_id?: string; config?: { name?: string } };
    return existing.run_id === runId && existing.config?.name === config;
  } catch {
    return false;
  }
}
