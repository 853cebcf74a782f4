import { defineCommand, intFlag } from './_command.ts';
import { TASK_SOURCE_OPTIONS, taskPaths, taskSource } from './_task-source.ts';
import { loadConfig } from '../config/index.ts';
import { Grader, resolveCacheDir } from '../grading/index.ts';
import { chooseSandbox, gradeSlotsFor, parseQueueUrl, runWorker } from '../runner/index.ts';
import { imageFlag, sandboxFlag } from '../sandbox/index.ts';
import { loadTaskSet } from '../tasks/index.ts';

export default defineCommand(
  {
    name: 'worker',
    summary: 'Take attempts from the runs of a Redis queue (`bench run --queue`) and run them here, with this machine\'s config.toml, keys, suite and sandbox. API keys never leave this machine.',
    usage: 'bench worker --queue redis://HOST:PORT[/DB] [-j N] [--config PATH] [--run-id ID] [--suite S | --dataset FILE] [--sandbox NAME]',
    options: {
      queue: { type: 'string', value: 'redis://HOST:PORT[/DB]', description: 'The Redis the coordinator (`bench run --queue`) enqueues into' },
      jobs: { type: 'string', short: 'j', value: 'N', description: 'Attempts at once (default 2)' },
      config: { type: 'string', value: 'PATH', description: 'Config file (default $BENCH_CONFIG, else ./config.toml): must resolve each config of the run to the same settings' },
      set: { type: 'string', multiple: true, value: 'KEY=VALUE', description: 'Override an [llm] key for every config (beats env and file)' },
      'run-id': { type: 'string', value: 'ID', description: 'Serve only this run (default: every running run)' },
      ...TASK_SOURCE_OPTIONS,
      sandbox: sandboxFlag('Sandbox for agents and grading'),
      image: imageFlag(),
    },
  },
  async ({ values }) => {
    const address = parseQueueUrl(values.queue);
    const config = loadConfig({ path: values.config, overrides: values.set });
    for (const warning of config.warnings) process.stderr.write(`warning: ${warning}\n`);
    const jobs = intFlag('jobs', values.jobs, 2);
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
      lockMs: process.env.BENCH_QUEUE_LOCK_MS ? intFlag('BENCH_QUEUE_LOCK_MS', process.env.BENCH_QUEUE_LOCK_MS, 30_000, 500) : undefined,
    });
    log(`stopped after ${summary.attempts} attempts`);
    return values['run-id'] && summary.refused[values['run-id']] ? 2 : 0;
  },
);
