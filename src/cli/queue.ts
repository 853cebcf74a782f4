import Table from 'cli-table3';
import { defineCommand, printJson } from './_command.ts';
import { JSON_OPTION } from './_options.ts';
import { UserError } from '../errors.ts';
import { parseQueueUrl, queueStatus } from '../runner/index.ts';

export default defineCommand(
  {
    name: 'queue',
    summary: 'Show the runs of a Redis queue: jobs waiting, active, failed and finished, and the workers serving each.',
    usage: 'bench queue status --queue redis://HOST:PORT[/DB] [--json]',
    positionals: { min: 1, max: 1, names: 'status' },
    options: {
      queue: { type: 'string', required: true, value: 'redis://HOST:PORT[/DB]', description: 'The Redis of the runs' },
      ...JSON_OPTION,
    },
  },
  async ({ values, positionals }) => {
    if (positionals[0] !== 'status') throw new UserError(`Unknown action \`${positionals[0]}\` for bench queue. Use \`bench queue status --queue redis://HOST:PORT\`.`);
    const address = parseQueueUrl(values.queue);
    let runs;
    try {
      runs = await queueStatus(address);
    } catch (error) {
      throw new UserError(`Cannot read the queue at ${address.shown} (${(error as Error).message}). Check that redis-server runs there (redis-cli -u URL ping).`);
    }
    if (values.json) {
      printJson(runs);
      return 0;
    }
    if (runs.length === 0) {
      process.stdout.write(`No runs in the queue at ${address.shown}. Start one with \`bench run --queue ${address.shown} ...\`.\n`);
      return 0;
    }
    const table = new Table({ head: ['run', 'status', 'suite', 'configs', 'waiting', 'active', 'failed', 'finished', 'workers'], style: { head: [], border: [] } });
    for (const run of runs) table.push([run.runId, run.status, run.suite, run.configs.join(', '), run.waiting, run.active, run.failed, run.finished, run.workers]);
    const refusals = runs.flatMap((run) => Object.entries(run.refusals).map(([worker, message]) => `  ${run.runId}: worker ${worker} refused: ${message}`));
    process.stdout.write(`${table.toString()}\n${refusals.length ? `${refusals.join('\n')}\n` : ''}`);
    return 0;
  },
);
