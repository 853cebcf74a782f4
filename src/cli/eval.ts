import { TASK_SOURCE_OPTIONS, taskPaths, taskSource } from './_task-source.ts';
import { defineCommand, printJson } from './_command.ts';
import { DB_OPTION, JSON_OPTION, jobsOption } from './_options.ts';
import { sandboxOptions } from './_sandbox-options.ts';
import type { EvaluationSummary } from '../results/index.ts';

export default defineCommand(
  {
    name: 'eval',
    summary: 'Grade SWE-bench predictions (or the gold patches) in sandboxes; writes grades to the store and SWE-bench report.json files.',
    usage: 'bench eval --predictions FILE|gold [--suite NAME | --dataset FILE --repos-dir DIR] [--instances ids] [--limit N] [--sample N --seed S] [-j N] [--run-id ID] [--sandbox NAME] [--image NAME] [--regrade] [--json]',
    options: {
      predictions: { type: 'string', required: true, value: 'FILE|gold', description: 'Predictions (.jsonl, .json list, or .json keyed by instance id), or `gold`' },
      ...TASK_SOURCE_OPTIONS,
      instances: { type: 'list', value: 'ids', description: 'Only these instance ids (comma-separated)' },
      sample: { type: 'integer', min: 1, value: 'N', description: 'Grade a random N of the selected instances (the same N for the same --seed)' },
      seed: { type: 'integer', min: 0, default: 0, value: 'S', description: 'Seed for --sample' },
      limit: { type: 'integer', min: 1, value: 'N', description: 'Grade only the first N instances (after --sample)' },
      ...jobsOption('Grade N instances at once', 2),
      'run-id': { type: 'string', value: 'ID', description: 'Run id (default: a new one); an existing id resumes it' },
      ...sandboxOptions('Where tests run'),
      regrade: { type: 'boolean', description: 'Grade again even when this patch was graded before' },
      ...DB_OPTION,
      ...JSON_OPTION,
    },
  },
  async ({ values }) => {
    // The stages load when the command runs, so `bench eval --help` does not wait for them.
    const [{ loadPredictions, loadTaskSet, narrowInstances, selectInstances }, { Grader, resolveCacheDir }, { chooseSandbox, newRunId, runEvaluation }, { withStore }] = await Promise.all([
      import('../tasks/index.ts'), import('../grading/index.ts'), import('../runner/index.ts'), import('./_session.ts'),
    ]);
    const { jobs } = values;
    const taskSet = await loadTaskSet(taskSource(values));
    // Checked against the whole task set; --instances, --sample and --limit then narrow which are graded.
    const submitted = loadPredictions(values.predictions, taskSet.instances);
    const selected = selectInstances(taskSet, { ids: values.instances });
    // A subset is drawn from the instances that have a prediction: `--limit 5` grades five of them.
    const narrowing = values.sample !== undefined || values.limit !== undefined;
    const predicted = new Set(submitted.map((p) => p.instance_id));
    const instances = narrowInstances(narrowing ? selected.filter((i) => predicted.has(i.instance_id)) : selected, { sample: values.sample, limit: values.limit, seed: values.seed });
    const chosen = new Set(instances.map((i) => i.instance_id));
    const predictions = submitted.filter((p) => chosen.has(p.instance_id));
    const modelCode = values.predictions !== 'gold' && predictions.some((p) => p.model_patch && p.model_patch.trim());
    const runId = values['run-id'] ?? newRunId();
    const sandbox = await chooseSandbox({ requested: values.sandbox, image: values.image, hiddenPaths: [...taskPaths(values), ...(values.predictions === 'gold' ? [] : [values.predictions])], modelCode, runLabel: runId, warn: (m) => process.stderr.write(`warning: ${m}\n`) });
    return withStore(values.db, async (store, signal) => {
      const grader = new Grader({ sandbox, cacheDir: resolveCacheDir(), store, regrade: values.regrade, jobs });
      const summaries = await runEvaluation({ store, grader, taskSet, instances, predictions, runId, jobs, signal, quiet: values.json });
      if (values.json) printJson(summaries.length === 1 ? summaries[0] : summaries);
      else await printSummary(summaries, runId);
      if (signal.aborted) {
        // Loaded here, not with the command: `bench eval --help` stays light.
        const { resumeArgs } = await import('./_command-line.ts');
        process.stderr.write(`Interrupted. Resume with: npx bench eval ${resumeArgs(process.argv.slice(3), runId)}\n`);
        return 130;
      }
      return 0;
    });
  },
);

async function printSummary(summaries: EvaluationSummary[], runId: string): Promise<void> {
  const { default: Table } = await import('cli-table3');
  const table = new Table({
    head: ['model', 'submitted', 'resolved', 'rate', 'unresolved', 'empty patch', 'patch failed', 'timeout', 'errors'],
    style: { head: [], border: [] },
  });
  for (const s of summaries) {
    const rate = s.submitted_instances ? `${((100 * s.resolved_instances) / s.submitted_instances).toFixed(1)}%` : '-';
    table.push([s.model_name_or_path, s.submitted_instances, s.resolved_instances, rate, s.unresolved_instances, s.empty_patch_instances, s.patch_failed_instances, s.timeout_instances, s.error_instances - s.patch_failed_instances - s.timeout_instances]);
  }
  process.stdout.write(`${table.toString()}\nrun ${runId}: reports in ${summaries[0]?.report_dir.replace(/\/[^/]+$/, '') ?? '-'}\n`);
}
