import { join } from 'node:path';
import pLimit from 'p-limit';
import type { Store } from '../store/index.ts';
import type { Instance, Prediction, TaskSet } from '../tasks/index.ts';
import { gradeFields, emptyUsage, instanceRows } from './_attempt.ts';
import { runDir, safeName, writeFileAtomic, writeInstanceReport } from './_files.ts';
import type { Grader } from './_grader.ts';
import { Progress } from './_progress.ts';
import { HARNESS_VERSION, gitCommit } from './_version.ts';

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

/** `bench eval`: grade SWE-bench predictions, write grades to the store and SWE-bench report files. */
export async function runEvaluation(options: {
  store: Store; grader: Grader; taskSet: TaskSet; instances: Instance[]; predictions: Prediction[]; runId: string; jobs: number;
  signal?: AbortSignal; quiet?: boolean;
}): Promise<EvaluationSummary[]> {
  const { store, grader, taskSet, instances, predictions, runId } = options;
  const byId = new Map(instances.map((i) => [i.instance_id, i]));
  const wanted = predictions.filter((p) => byId.has(p.instance_id));
  if (!store.getRun(runId)) {
    store.createRun({
      id: runId, createdAt: new Date().toISOString(), status: 'running', command: 'eval', harnessVersion: HARNESS_VERSION, gitCommit: gitCommit(),
      suite: taskSet.name, suiteHash: taskSet.hash, agent: 'eval', options: { sandbox: grader.sandbox.kind, jobs: options.jobs },
    });
  } else store.updateRunStatus(runId, 'running');
  store.saveInstances(instanceRows(taskSet, instances));
  const models = [...new Set(wanted.map((p) => p.model_name_or_path))];
  for (const model of models) {
    if (!store.configSnapshots(runId).some((s) => s.name === model)) store.saveConfigSnapshot(runId, model, model, { model_name_or_path: model });
  }

  const done = store.completedKeys(runId);
  const dir = runDir(runId);
  const limit = pLimit(options.jobs);
  const progress = new Progress(wanted.length, { quiet: options.quiet });
  let reused = 0;
  await Promise.all(
    wanted.map((prediction) =>
      limit(async () => {
        if (options.signal?.aborted) return;
        const instance = byId.get(prediction.instance_id)!;
        const key = `${instance.instance_id}\u0000${prediction.model_name_or_path}\u00000`;
        if (done.has(key)) return;
        const started = new Date();
        const grade = await grader.grade(instance, prediction.model_patch);
        if (grade.reused) reused++;
        const finished = new Date();
        writeInstanceReport(dir, prediction.model_name_or_path, grade, prediction.model_patch);
        store.recordAttempt({
          ...emptyUsage(), ...gradeFields(instance, grade),
          runId, configName: prediction.model_name_or_path, repeat: 0, agent: 'eval', patch: prediction.model_patch,
          error: grade.error ?? null, exitReason: null, malformedCount: 0, infraRetries: 0,
          startedAt: started.toISOString(), finishedAt: finished.toISOString(), durationMs: finished.getTime() - started.getTime(),
          agentMs: 0, gradeMs: finished.getTime() - started.getTime(), trajectory: undefined, llmCalls: [],
        });
        progress.record(prediction.model_name_or_path, grade.outcome, 0);
      }),
    ),
  );
  progress.finish();
  store.updateRunStatus(runId, options.signal?.aborted ? 'interrupted' : 'finished');

  return models.map((model) => {
    const attempts = store.attempts([runId]).filter((a) => a.configName === model);
    const ids = (outcomes: string[]) => attempts.filter((a) => outcomes.includes(a.outcome)).map((a) => a.instanceId).sort();
    const submitted = wanted.filter((p) => p.model_name_or_path === model).map((p) => p.instance_id).sort();
    const summary: EvaluationSummary = {
      run_id: runId, model_name_or_path: model,
      total_instances: instances.length,
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
      reused_grades: reused,
      report_dir: join(dir, safeName(model)),
    };
    writeFileAtomic(join(dir, `${safeName(model)}.${runId}.json`), `${JSON.stringify(summary, null, 2)}\n`);
    return summary;
  });
}
