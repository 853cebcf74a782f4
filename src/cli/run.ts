import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { agentChoiceNotes, agentHelp, unreadAgentKeys } from '../agents/index.ts';
import { TASK_SOURCE_OPTIONS, taskPaths, taskSource } from './_task-source.ts';
import { defineCommand } from './_command.ts';
import { DB_OPTION, JSON_OPTION, configFileOptions, jobsOption } from './_options.ts';
import { sandboxOptions } from './_sandbox-options.ts';
import { useColor, withStore } from './_session.ts';
import { loadConfig } from '../config/index.ts';
import { loadTaskSet, narrowInstances, selectInstances } from '../tasks/index.ts';
import { UserError } from '../errors.ts';
import { Grader, resolveCacheDir } from '../grading/index.ts';
import {
  DEFAULT_FAIL_FAST, checkKeys, checkProviders, checkSpendingCap, chooseSandbox, configsOf, gradeSlotsFor, diskCache, errorSummary, newRunId, parseQueueUrl, planArms, planRun, queueScheduler, replayCache, runBenchmark,
} from '../runner/index.ts';
import { Store, resolveDbPath } from '../store/index.ts';
import { printPlan } from './_plan.ts';
import { resumeArgs, withoutSecretFlags } from './_command-line.ts';
import { buildReport, loadReportInput, renderReport } from '../report/index.ts';

export default defineCommand(
  {
    name: 'run',
    summary: 'Run task instances against named LLM configs: each model produces a patch, graded in a sandbox; results go to the store. With no config named, runs the gold and empty baselines of the built-in suite.',
    usage: 'bench run [--queue redis://HOST:PORT[/DB]] [--configs a,b] [--agent NAME] [--suite S | --dataset FILE] [--instances ids] [--filter REGEX] [-j N] [--limit N] [--sample N --seed S] [--runs K] [--max-cost USD [--allow-unpriced]] [--dry-run] [--run-id ID] [--sandbox NAME] [--image NAME] [--fail-fast N] [--no-preflight]',
    options: {
      configs: { type: 'list', value: 'a,b', description: 'Named LLM configs to compare ([llm.NAME] sections; `llm` is the default)' },
      agent: { type: 'string', value: 'NAME', description: `An [agent.NAME] section, an explorer and writer pair (A+B), or a built-in agent: ${agentHelp()} (default: the config's explorer and writer pair when it has one, else bash)` },
      ...configFileOptions(),
      ...TASK_SOURCE_OPTIONS,
      instances: { type: 'list', value: 'ids', description: 'Only these instance ids (comma-separated)' },
      filter: { type: 'string', value: 'REGEX', description: 'Only instance ids matching this regular expression' },
      sample: { type: 'integer', min: 1, value: 'N', description: 'A random N of the selected instances (the same N for the same --seed), kept in the suite\'s order' },
      shuffle: { type: 'boolean', description: 'Shuffle the instance order (with --seed, repeatably)' },
      seed: { type: 'integer', min: 0, default: 0, value: 'S', description: 'Seed for --sample and --shuffle' },
      limit: { type: 'integer', min: 1, value: 'N', description: 'Only the first N instances (after --sample and --shuffle): a smoke test' },
      'dry-run': { type: 'boolean', description: 'Print the attempts the run would make and an estimated cost range per config; call no model, write nothing' },
      ...jobsOption('Attempts in flight at once; each config also keeps to its max_concurrency', 4),
      runs: { type: 'integer', min: 1, default: 1, value: 'K', description: 'Repeat each (instance, config) K times, for pass@k' },
      'max-cost': { type: 'number', value: 'USD', description: 'Spending cap: an attempt starts only if what is spent, what the attempts in flight are expected to cost and its own expected cost stay within USD' },
      'allow-unpriced': { type: 'boolean', description: 'With --max-cost: run configs whose model has no known price (their spending is not counted)' },
      'run-id': { type: 'string', value: 'ID', description: 'Run id (default: new); an existing id resumes, doing only what is missing' },
      ...sandboxOptions('Sandbox for agents and grading'),
      cache: { type: 'boolean', description: 'Keep model responses by request hash and reuse them (results/cache/responses)' },
      replay: { type: 'string', value: 'RUN', description: 'Re-execute from RUN\'s recorded responses, offline; no provider is called' },
      regrade: { type: 'boolean', description: 'Grade patches again even when graded before' },
      strict: { type: 'boolean', description: 'Exit 1 when any attempt ended in model_error or infra_error' },
      ...DB_OPTION,
      ...JSON_OPTION,
      'fail-fast': { type: 'integer', min: 0, default: DEFAULT_FAIL_FAST, value: 'N', description: 'Stop giving a config new attempts after N identical provider errors in a row; 0 never' },
      'no-preflight': { type: 'boolean', description: 'Skip (as BENCH_NO_PREFLIGHT=1 does) the one tiny request per provider endpoint that checks, before any attempt, that each config can be reached with its key and model' },
      queue: { type: 'string', value: 'redis://HOST:PORT[/DB]', description: 'Coordinate: enqueue the attempts for `bench worker` processes and store their records here' },
    },
  },
  async ({ values }) => {
    // Every input is checked before the store is opened: a bad command writes nothing.
    const config = loadConfig({ path: values.config, overrides: values.set });
    const notes = [...config.warnings, ...unreadAgentKeys(config), ...agentChoiceNotes(config, { agent: values.agent, configs: values.configs })];
    for (const warning of notes) process.stderr.write(`warning: ${warning}\n`);
    const arms = planArms(config, { configs: values.configs, agent: values.agent });
    // A replay answers from the store and never calls a provider, and a dry run calls nothing: neither needs a key.
    if (values.replay) for (const llm of configsOf(arms)) llm.settings.api_key ??= 'replay-needs-no-key';
    else if (!values['dry-run']) checkKeys(arms);
    const taskSet = await loadTaskSet(taskSource(values));
    let instances = selectInstances(taskSet, { ids: values.instances, filter: values.filter });
    instances = narrowInstances(instances, { sample: values.sample, shuffle: values.shuffle, limit: values.limit, seed: values.seed });
    const { jobs, runs, 'max-cost': maxCost, 'fail-fast': failFast } = values;
    if (values.cache && values.replay) throw new UserError('Pass either --cache or --replay RUN, not both.');
    const address = values.queue === undefined ? undefined : parseQueueUrl(values.queue);
    if (address && (values.cache || values.replay)) throw new UserError(`--${values.cache ? 'cache' : 'replay'} keeps responses on this machine, so it cannot be combined with --queue, whose attempts run on the workers. Drop one of the two.`);
    const modelCode = arms.some((arm) => arm.llm);
    const runId = values['run-id'] ?? newRunId();
    checkSpendingCap(arms, maxCost, values['allow-unpriced']);
    if (values['dry-run']) {
      const path = resolveDbPath(values.db);
      const store = existsSync(path) ? Store.open(path, { readonly: true }) : undefined;
      try {
        printPlan(planRun({ store, runId, instances, arms, runs }), { json: values.json, maxCost });
      } finally {
        store?.close();
      }
      return 0;
    }
    if (modelCode && !values.replay && !values['no-preflight'] && process.env.BENCH_NO_PREFLIGHT !== '1') await checkProviders(arms, (m) => process.stderr.write(`warning: ${m}\n`));
    const sandbox = await chooseSandbox({ requested: values.sandbox, image: values.image, hiddenPaths: taskPaths(values), modelCode, runLabel: runId, warn: (m) => process.stderr.write(`warning: ${m}\n`) });

    return withStore(values.db, async (store, signal) => {
      if (values.replay && !store.getRun(values.replay)) throw new UserError(`--replay ${values.replay}: no such run in ${store.path}. List runs with \`bench report\`.`);
      const cacheDir = resolveCacheDir();
      const grader = new Grader({ sandbox, cacheDir, store, regrade: values.regrade, jobs: gradeSlotsFor(jobs) });
      if (!modelCode) process.stderr.write(`No LLM config named: running the ${arms.map((a) => a.name).join(' and ')} baseline${arms.length > 1 ? 's' : ''} on ${taskSet.name} (pass --configs NAME to run a model).\n`);
      const result = await runBenchmark({
        store, grader, taskSet, instances, arms, runId, runs, jobs, maxCost, failFast, signal, quiet: values.json,
        responseCache: values.replay ? replayCache(store, values.replay) : values.cache ? diskCache(join(cacheDir, 'responses')) : undefined,
        commandLine: withoutSecretFlags(process.argv.slice(2)),
        scheduler: address && queueScheduler({ address, runId, arms, taskSet, log: (m) => process.stderr.write(`${m}\n`) }),
      });
      const report = buildReport(loadReportInput(store, [runId]));
      process.stdout.write(values.json ? renderReport(report, 'json') : renderReport(report, 'table', { color: useColor() }));
      if (result.stoppedByCost) process.stderr.write(`Stopped starting attempts at --max-cost ${maxCost}; resume with a higher --max-cost and --run-id ${runId}.\n`);
      if (result.interrupted) {
        process.stderr.write(`Interrupted: every completed attempt is saved. Resume with: npx bench run ${resumeArgs(withoutSecretFlags(process.argv.slice(3)), runId)}\n`);
        return 130;
      }
      process.stderr.write(`run ${runId}: ${result.attempted} attempts${result.skipped ? `, ${result.skipped} already done` : ''}; \`bench report ${runId}\` shows it again.\n`);
      const attempts = store.attempts([runId]);
      const failed = (a: { outcome: string }) => a.outcome === 'model_error' || a.outcome === 'infra_error';
      const summary = errorSummary(attempts);
      if (summary.length) process.stderr.write(`Failed attempts:\n${summary.map((line) => `  ${line}`).join('\n')}\n`);
      for (const { config, reason } of result.stoppedConfigs) process.stderr.write(`${config} was stopped after ${reason}; its missing attempts run on resume: --run-id ${runId}.\n`);
      // A run none of whose attempts got past the provider or the harness measured nothing.
      if (attempts.length > 0 && attempts.every(failed)) return 1;
      if (result.stoppedConfigs.length > 0) return 1;
      if (values.strict && attempts.some(failed)) return 1;
      return 0;
    });
  },
);

