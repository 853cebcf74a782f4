import pLimit from 'p-limit';
import type { Store } from '../store/index.ts';
import type { Instance, Prediction, TaskSet } from '../tasks/index.ts';
import { gradeFields, emptyUsage, instanceRows } from './_attempt.ts';
import type { Grader } from '../grading/index.ts';
import { writeEvaluationSummary, writeInstanceReport, type EvaluationSummary } from '../results/index.ts';
import { DEFAULT_INFRA_RETRIES, retryInfra } from './_infra-retry.ts';
import { Progress } from './_progress.ts';
import { HARNESS_VERSION, gitCommit } from '../version.ts';

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
      suite: taskSet.name, suiteHash: taskSet.hash, agent: 'eval',
      options: { sandbox: grader.sandbox.kind, jobs: options.jobs, suiteInstances: taskSet.instances.length, plannedInstances: [...new Set(wanted.map((p) => p.instance_id))] },
    });
  } else store.updateRunStatus(runId, 'running');
  store.saveInstances(instanceRows(taskSet, instances));
  const models = [...new Set(wanted.map((p) => p.model_name_or_path))];
  for (const model of models) {
    if (!store.configSnapshots(runId).some((s) => s.name === model)) store.saveConfigSnapshot(runId, model, model, { model_name_or_path: model });
  }

  const done = store.completedKeys(runId);
  // Twice the grader's test slots: one grading prepares while another's tests run.
  const limit = pLimit(options.jobs * 2);
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
        // A grading the machine failed (a sandbox that would not start, a setup refused a process) is tried again.
        const { result: grade, retries } = await retryInfra(() => grader.grade(instance, prediction.model_patch), (g) => g.outcome === 'infra_error', { retries: DEFAULT_INFRA_RETRIES, signal: options.signal });
        if (grade.reused) reused++;
        const finished = new Date();
        writeInstanceReport(runId, prediction.model_name_or_path, grade, prediction.model_patch);
        store.recordAttempt({
          ...emptyUsage(), ...gradeFields(instance, grade),
          runId, configName: prediction.model_name_or_path, repeat: 0, agent: 'eval', patch: prediction.model_patch,
          error: grade.error ?? null, exitReason: null, malformedCount: 0, infraRetries: retries,
          startedAt: started.toISOString(), finishedAt: finished.toISOString(), durationMs: finished.getTime() - started.getTime(),
          agentMs: 0, gradeMs: finished.getTime() - started.getTime(), trajectory: undefined, llmCalls: [],
        });
        progress.record(prediction.model_name_or_path, grade.outcome, 0);
      }),
    ),
  );
  progress.finish();
  store.updateRunStatus(runId, options.signal?.aborted ? 'interrupted' : 'finished');

  return models.map((model) => writeEvaluationSummary(store, {
    runId, model, totalInstances: instances.length, reusedGrades: reused,
    submittedIds: wanted.filter((p) => p.model_name_or_path === model).map((p) => p.instance_id),
  }));
}
