import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineCommand } from './_command.ts';
import { withStore } from './_session.ts';
import { exportName, exportRun, trajectoryFiles } from '../report/index.ts';
import { HARNESS_VERSION, gitCommit } from '../runner/index.ts';
import { writeFileAtomic } from '../runner/_files.ts';

export default defineCommand(
  {
    name: 'export',
    summary: 'Export one config of a run as a results file others can verify: results/verified/<date>_<model>_<agent>.json plus SWE-bench all_preds.jsonl; with --trajectories, one mini-swe-agent .traj.json per attempt too.',
    usage: 'bench export RUN_ID --config NAME [--out DIR] [--trajectories]',
    positionals: { min: 1, max: 1, names: 'RUN_ID' },
    options: {
      config: { type: 'string', value: 'NAME', description: 'The config (column) of the run to export' },
      out: { type: 'string', value: 'DIR', description: 'Folder to write to (default results/verified)' },
      trajectories: { type: 'boolean', description: 'Also write <base>.trajs/<instance_id>.traj.json in mini-swe-agent\'s trajectory format' },
      db: { type: 'string', value: 'PATH', description: 'Results database (default $BENCH_DB, else results/bench.db)' },
    },
  },
  async ({ values, positionals }) => {
    if (!values.config) {
      process.stderr.write('error: --config NAME is required: the config of the run to export (see `bench report RUN_ID`).\n');
      return 2;
    }
    return withStore(values.db, async (store) => {
      const { file, predictions } = exportRun(store, positionals[0]!, values.config!, { version: HARNESS_VERSION, gitCommit: gitCommit() });
      const folder = values.out ?? 'results/verified';
      let base = join(folder, exportName(file));
      // Two configs of one model (or two runs on one day) must not overwrite each other's file.
      if (existsSync(`${base}.json`) && !sameExport(`${base}.json`, file.run_id, file.config.name)) {
        base = join(folder, `${exportName(file)}_${file.config.name.replace(/[^A-Za-z0-9.-]+/g, '-')}_${file.run_id}`);
      }
      writeFileAtomic(`${base}.json`, `${JSON.stringify(file, null, 2)}\n`);
      writeFileAtomic(`${base}.all_preds.jsonl`, predictions);
      const trajs = values.trajectories ? trajectoryFiles(store, file.run_id, file.config.name, HARNESS_VERSION) : [];
      for (const traj of trajs) writeFileAtomic(join(`${base}.trajs`, traj.name), traj.content);
      const also = trajs.length > 0 ? ` and ${trajs.length} trajectories in ${base}.trajs/` : '';
      process.stdout.write(`wrote ${base}.json and ${base}.all_preds.jsonl${also} (${file.summary.resolved}/${file.summary.total} resolved)\n`);
      return 0;
    }, { readonly: true });
  },
);

function sameExport(path: string, runId: string, config: string): boolean {
  try {
    const existing = JSON.parse(readFileSync(path, 'utf8')) as { run_id?: string; config?: { name?: string } };
    return existing.run_id === runId && existing.config?.name === config;
  } catch {
    return false;
  }
}
