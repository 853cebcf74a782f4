import { defineCommand, parseInteger } from './_command.ts';
import { configFileOptions, jobsOption } from './_options.ts';
import { sandboxOptions } from './_sandbox-options.ts';
import { TASK_SOURCE_OPTIONS, taskPaths, taskSource } from './_task-source.ts';
import { loadConfig } from '../config/index.ts';
import { UserError } from '../errors.ts';
import { Grader, resolveCacheDir } from '../grading/index.ts';
import { chooseSandbox, gradeSlotsFor, parseQueueUrl, runWorker } from '../runner/index.ts';
import { loadTaskSet } from '../tasks/index.ts';

export default defineCommand(
  {
    name: 'worker',
    summary: 'Take attempts from the runs of a Redis queue (`bench run --queue`) and run them here, with this machine\'s config.toml, keys, suite and sandbox. API keys never leave this machine.',
    usage: 'bench worker --queue redis://HOST:PORT[/DB] [-j N] [--config PATH] [--run-id ID] [--suite S | --dataset FILE] [--sandbox NAME]',
    options: {
      queue: { type: 'string', required: true, value: 'redis://HOST:PORT[/DB]', description: 'The Redis the coordinator (`bench run --queue`) enqueues into' },
      ...jobsOption('Attempts at once', 2),
      ...configFileOptions('Config file (default $BENCH_CONFIG, else ./config.toml): must resolve each config of the run to the same settings'),
      'run-id': { type: 'string', value: 'ID', description: 'Serve only this run (default: every running run)' },
      ...TASK_SOURCE_OPTIONS,
      ...sandboxOptions('Sandbox for agents and grading'),
    },
  },
  async ({ values }) => {
    const address = parseQueueUrl(values.queue);
    const config = loadConfig({ path: values.config, overrides: values.set });
    for (const warning of config.warnings) process.stderr.write(`warning: ${warning}\n`);
    const { jobs } = values;
    const named = values.suite !== undefined || values.dataset !== undefined;
    const sandbox = await chooseSandbox({ requested: values.sandbox, image: values.image, hiddenPaths: taskPaths(values), modelCode: true, runLabel: 'worker', warn: (m) => process.stderr.write(`warning: ${m}\n`) });
    const grader = new Grader({ sandbox, cacheDir: resolveCacheDir(), jobs: gradeSlotsFor(jobs) });
    const controller = new AbortController();
    const onSignal = (signal: NodeJS.Signals) => {
      if (controller.signal.aborted) {
        process.stderr.write('Stopped again: exiting at once; the attempts in flight go back to the queue for another worker.\n');
        process.exit(130);
      }
      process.stderr.write(`${signal}: finishing the attempts in flight, taking no new ones (again to stop at once).\n`);
      controller.abort();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const log = (message: string) => process.stderr.write(`[worker] ${message}\n`);
    log(`waiting for runs on ${address.shown}`);
    const summary = await runWorker({
      address, jobs, config, grader, runId: values['run-id'], signal: controller.signal, log,
      // The run's own suite by name, unless this worker was given its copy.
      taskSet: (manifest) => loadTaskSet(named ? taskSource(values) : { suite: manifest.suite.name }),
      lockMs: lockMs(process.env.BENCH_QUEUE_LOCK_MS),
    });
    log(`stopped after ${summary.attempts} attempts`);
    return values['run-id'] && summary.refused[values['run-id']] ? 2 : 0;
  },
);

/** BENCH_QUEUE_LOCK_MS, at least 500 ms (shorter locks would expire between renewals). */
function lockMs(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseInteger(value);
  if (ms === undefined || ms < 500) throw new UserError(`BENCH_QUEUE_LOCK_MS must be an integer >= 500 (milliseconds), got \`${value}\`. Unset it for the default of 30000.`);
  return ms;
}
