import { join } from 'node:path';
import type { Grade } from '../grading/index.ts';
import type { Store } from '../store/index.ts';
import { runDir, safeName, writeFileAtomic } from './_files.ts';

/** SWE-bench's summary of one model's predictions in one run (`<model>.<run>.json`). */
export type EvaluationSummary = {
  run_id: string;
  model_name_or_path: string;
  total_instances: number;
  submitted_instances: number;
  completed_instances: number;
  resolved_instances: number;
  unresolved_instances: number;
  /** Ours: graded, but the report was not the test framework's own word (counted as unresolved too). */
  tampered_instances: number;
  empty_patch_instances: number;
  error_instances: number;
  patch_failed_instances: number;
  timeout_instances: number;
  submitted_ids: string[];
  completed_ids: string[];
  resolved_ids: string[];
  unresolved_ids: string[];
  tampered_ids: string[];
  empty_patch_ids: string[];
  error_ids: string[];
  reused_grades: number;
  report_dir: string;
};

/** SWE-bench's layout: <run>/<model>/<instance>/{report.json,patch.diff,test_output.txt}. */
export function writeInstanceReport(runId: string, model: string, grade: Grade, patch: string | null): void {
  const folder = join(runDir(runId), safeName(model), safeName(grade.instanceId));
  writeFileAtomic(join(folder, 'report.json'), `${JSON.stringify(grade.report, null, 2)}\n`);
  if (patch) writeFileAtomic(join(folder, 'patch.diff'), patch);
  if (grade.log) writeFileAtomic(join(folder, 'test_output.txt'), grade.log);
}

/**
 * Writes `<run>/<model>.<run>.json` from the store's attempts of that model, with SWE-bench's
 * field names, and returns it.
 */
export function writeEvaluationSummary(store: Store, options: { runId: string; model: string; totalInstances: number; submittedIds: string[]; reusedGrades: number }): EvaluationSummary {
  const { runId, model } = options;
  const dir = runDir(runId);
  const attempts = store.attempts([runId]).filter((a) => a.configName === model);
  const ids = (outcomes: string[]) => attempts.filter((a) => outcomes.includes(a.outcome)).map((a) => a.instanceId).sort();
  const submitted = [...options.submittedIds].sort();
  const summary: EvaluationSummary = {
    run_id: runId, model_name_or_path: model,
    total_instances: options.totalInstances,
    submitted_instances: submitted.length,
    completed_instances: ids(['resolved', 'unresolved', 'tampered']).length,
    resolved_instances: ids(['resolved']).length,
    unresolved_instances: ids(['unresolved', 'tampered']).length,
    tampered_instances: ids(['tampered']).length,
    empty_patch_instances: ids(['empty_patch']).length,
    error_instances: ids(['patch_failed', 'timeout', 'infra_error']).length,
    patch_failed_instances: ids(['patch_failed']).length,
    timeout_instances: ids(['timeout']).length,
    submitted_ids: submitted,
    completed_ids: ids(['resolved', 'unresolved', 'tampered']),
    resolved_ids: ids(['resolved']),
    unresolved_ids: ids(['unresolved', 'tampered']),
    tampered_ids: ids(['tampered']),
    empty_patch_ids: ids(['empty_patch']),
    error_ids: ids(['patch_failed', 'timeout', 'infra_error']),
    reused_grades: options.reusedGrades,
    report_dir: join(dir, safeName(model)),
  };
  writeFileAtomic(join(dir, `${safeName(model)}.${safeName(runId)}.json`), `${JSON.stringify(summary, null, 2)}\n`);
  return summary;
}
