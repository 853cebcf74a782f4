import { defineCommand } from './_command.ts';
import { withStore } from './_session.ts';
import { UserError } from '../errors.ts';
import { DB_OPTION } from './_options.ts';
import { writeExport, writeTrajectories } from '../results/index.ts';

export default defineCommand(
  {
    name: 'export',
    summary: 'Export one config of a run as a results file others can verify: results/verified/<date>_<model>_<agent>.json plus SWE-bench all_preds.jsonl; with --trajectories, one mini-swe-agent .traj.json per attempt too.',
    usage: 'bench export RUN_ID --configs NAME [--out DIR] [--trajectories]',
    positionals: { min: 1, max: 1, names: 'RUN_ID' },
    options: {
      configs: { type: 'string', value: 'NAME', description: 'The config (column) of the run to export, named as in `bench run --configs`' },
      config: { type: 'string', value: 'NAME', description: 'The older spelling of --configs NAME (elsewhere --config is the config file)' },
      out: { type: 'string', value: 'DIR', description: 'Folder to write to (default results/verified)' },
      trajectories: { type: 'boolean', description: 'Also write <base>.trajs/<instance_id>.traj.json in mini-swe-agent\'s trajectory format' },
      ...DB_OPTION,
    },
  },
  async ({ values, positionals }) => {
    const config = values.configs ?? values.config;
    if (config === undefined) throw new UserError(`bench export: --configs NAME is required: the config (column) of run ${positionals[0]} to export; \`bench report ${positionals[0]}\` lists them. Usage: bench export RUN_ID --configs NAME [--out DIR] [--trajectories]`);
    if (values.configs !== undefined && values.config !== undefined) throw new UserError('bench export: pass --configs NAME once (--config NAME is its older spelling), not both.');
    return withStore(values.db, async (store) => {
      const { path, predictionsPath, file } = writeExport(store, positionals[0]!, config, values.out ?? 'results/verified');
      const trajs = values.trajectories ? writeTrajectories(store, file.run_id, file.config.name, path) : undefined;
      const also = trajs ? ` and ${trajs.count} trajectories in ${trajs.dir}/` : '';
      process.stdout.write(`wrote ${path} and ${predictionsPath}${also} (${file.summary.resolved}/${file.summary.total} resolved)\n`);
      return 0;
    }, { readonly: true });
  },
);
