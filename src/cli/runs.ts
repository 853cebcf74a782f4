import { existsSync } from 'node:fs';
import { defineCommand, printJson } from './_command.ts';
import { withStore } from './_session.ts';
import { DB_OPTION, JSON_OPTION } from './_options.ts';
import { UserError } from '../errors.ts';
import { listRuns, removeRun, renderRunList } from '../report/index.ts';
import { runDir } from '../results/index.ts';
import { resolveDbPath } from '../store/index.ts';

export default defineCommand(
  {
    name: 'runs',
    summary: 'List the runs in the store (id, date, status, configs, attempts, resolved, cost), or delete one with `bench runs rm RUN`.',
    usage: 'bench runs [--json] | bench runs rm RUN [--force]',
    positionals: { min: 0, max: 2, names: 'nothing, or `rm RUN`' },
    options: {
      force: { type: 'boolean', description: 'With rm: delete a run even when it is marked running' },
      ...DB_OPTION,
      ...JSON_OPTION,
    },
  },
  async ({ values, positionals }) => {
    const [action, id] = positionals;
    if (action === undefined) {
      return withStore(values.db, async (store) => {
        const runs = listRuns(store);
        if (values.json) printJson(runs);
        else process.stdout.write(renderRunList(runs));
        return 0;
      }, { readonly: true });
    }
    if (action !== 'rm' || id === undefined) {
      throw new UserError(`bench runs: expected nothing or \`rm RUN\`, got \`${positionals.join(' ')}\`. Usage: bench runs [--json] | bench runs rm RUN [--force]`);
    }
    // Deleting from a database that does not exist must not create one.
    if (!existsSync(resolveDbPath(values.db))) throw new UserError(`No results database at ${resolveDbPath(values.db)}, so there is no run ${id} to delete. Point --db / $BENCH_DB at the database that holds it.`);
    return withStore(values.db, async (store) => {
      const removed = removeRun(store, id, { force: values.force, runFolder: (runId) => runDir(runId) });
      if (values.json) printJson(removed);
      else process.stdout.write(`deleted run ${removed.id}: ${removed.attempts} attempt${removed.attempts === 1 ? '' : 's'} with their tests and calls${removed.folder ? `, and ${removed.folder}` : ''}.\n`);
      return 0;
    });
  },
);
