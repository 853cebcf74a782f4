import Table from 'cli-table3';
import { TASK_SOURCE_OPTIONS, taskPaths, taskSource } from './_task-source.ts';
import { defineCommand, printJson } from './_command.ts';
import { JSON_OPTION, jobsOption } from './_options.ts';
import { sandboxOptions } from './_sandbox-options.ts';
import { UserError } from '../errors.ts';
import { loadTaskSet, selectInstances } from '../tasks/index.ts';
import { Grader, TEST_NAMINGS, resolveCacheDir } from '../grading/index.ts';
import { chooseSandbox, validateInstances } from '../runner/index.ts';

export default defineCommand(
  {
    name: 'tasks',
    summary: 'List, show and validate task instances (the built-in suite, another suite, or a SWE-bench dataset).',
    usage: 'bench tasks list|show ID|validate [SUITE|FILE] [--derive [--naming bench|swebench|polybench]] [--instances ids] [-j N] [--json]',
    positionals: { min: 1, max: 2, names: 'list | show ID | validate [SUITE|FILE]' },
    options: {
      ...TASK_SOURCE_OPTIONS,
      instances: { type: 'list', value: 'ids', description: 'Only these instance ids' },
      derive: { type: 'boolean', description: 'validate: compute FAIL_TO_PASS / PASS_TO_PASS from runs before and after the gold patch' },
      naming: { type: 'choice', choices: TEST_NAMINGS, value: TEST_NAMINGS.join('|'), description: 'validate --derive: write test names as we do (bench, default: file::suites::title), as SWE-bench\'s log parsers name tests or as SWE-PolyBench\'s do' },
      ...jobsOption('validate: instances at once', 2),
      ...sandboxOptions('validate: where tests run'),
      ...JSON_OPTION,
    },
  },
  async ({ values, positionals }) => {
    const [action, argument] = positionals;
    const { naming } = values;
    const source = taskSource(values);
    if (action === 'validate' && argument) {
      if (/\.(jsonl?|parquet)$/.test(argument)) source.dataset = argument;
      else source.suite = argument;
    }
    const taskSet = await loadTaskSet(source);
    switch (action) {
      case 'list': {
        const instances = selectInstances(taskSet, { ids: values.instances });
        if (values.json) {
          printJson(instances.map((i) => ({ instance_id: i.instance_id, repo: i.repo, language: i.language, FAIL_TO_PASS: i.FAIL_TO_PASS.length, PASS_TO_PASS: i.PASS_TO_PASS.length })));
          return 0;
        }
        const table = new Table({ head: ['instance', 'repo', 'language', 'F2P', 'P2P', 'problem'], style: { head: [], border: [] } });
        for (const i of instances) table.push([i.instance_id, i.repo, i.language ?? '', i.FAIL_TO_PASS.length, i.PASS_TO_PASS.length, firstLine(i.problem_statement)]);
        process.stdout.write(`${table.toString()}\n${instances.length} instances in ${taskSet.name} (hash ${taskSet.hash.slice(0, 12)})\n`);
        return 0;
      }
      case 'show': {
        if (!argument) throw new UserError('bench tasks show needs an instance id, e.g. `bench tasks show benchlab__csvkit-1`.');
        const [instance] = selectInstances(taskSet, { ids: [argument] });
        if (values.json) printJson({ ...instance, source: undefined });
        else {
          process.stdout.write(
            [`# ${instance!.instance_id}  (${instance!.repo})`, '', instance!.problem_statement.trim(), '', `test_cmd: ${instance!.test_cmd}`, `log_parser: ${instance!.log_parser}`, `chosen by: ${instance!.testCommandRule}`,
              ...(instance!.install ? [`install: ${instance!.install}`] : []),
              `FAIL_TO_PASS (${instance!.FAIL_TO_PASS.length}):`, ...instance!.FAIL_TO_PASS.map((t) => `  ${t}`), `PASS_TO_PASS: ${instance!.PASS_TO_PASS.length} tests`, ''].join('\n'),
          );
        }
        return 0;
      }
      case 'validate': {
        const instances = selectInstances(taskSet, { ids: values.instances });
        const sandbox = await chooseSandbox({ requested: values.sandbox, image: values.image, hiddenPaths: taskPaths(values), modelCode: false, warn: (m) => process.stderr.write(`warning: ${m}\n`) });
        const grader = new Grader({ sandbox, cacheDir: resolveCacheDir() });
        const results = await validateInstances(instances, grader, { jobs: values.jobs, derive: values.derive, naming });
        const failed = results.filter((r) => !r.ok);
        if (values.json) printJson(results);
        else {
          for (const r of results) {
            process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'} ${r.instanceId}${r.problems.length ? `\n       ${r.problems.join('\n       ')}` : ''}\n`);
            if (r.derived) process.stdout.write(`       derived FAIL_TO_PASS: ${JSON.stringify(r.derived.FAIL_TO_PASS)}\n       derived PASS_TO_PASS: ${r.derived.PASS_TO_PASS.length} tests (all of them with --json)\n`);
          }
          process.stdout.write(`${results.length - failed.length}/${results.length} instances valid in ${taskSet.name}: gold resolves each, the empty patch resolves none.\n`);
        }
        return failed.length ? 1 : 0;
      }
      default:
        throw new UserError(`Unknown action \`${action}\` for bench tasks. Use list, show ID or validate.`);
    }
  },
);

function firstLine(text: string): string {
  const line = text.split('\n').map((l) => l.replace(/^#+\s*/, '').trim()).find(Boolean) ?? '';
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}
