import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { defineCommand } from './_command.ts';
import { DB_OPTION } from './_options.ts';
import { withStore } from './_session.ts';
import { UserError } from '../errors.ts';
import { loadRunView, openInBrowser, renderView, servePage } from '../report/index.ts';
import { safeName, writeFileAtomic } from '../results/index.ts';

export default defineCommand(
  {
    name: 'view',
    summary: 'Write a self-contained HTML viewer of a run (latest by default): the comparison, then every attempt with its outcome, patch, tests, test log and trajectory, filterable by config and outcome. --open serves it on 127.0.0.1.',
    usage: 'bench view [RUN_ID...] [--output FILE] [--open [--port N]] [--baseline CONFIG]',
    positionals: { min: 0, max: 50, names: 'RUN_ID...' },
    options: {
      output: { type: 'string', short: 'o', value: 'FILE', description: 'Write to FILE (default $BENCH_RESULTS_DIR/view-<run>.html, else results/view-<run>.html)' },
      open: { type: 'boolean', description: 'Also serve the page on http://127.0.0.1 (and open a browser when there is a display) until Ctrl-C' },
      port: { type: 'integer', min: 1, max: 65535, value: 'N', description: 'Port for --open (default: a free one)' },
      baseline: { type: 'string', value: 'CONFIG', description: 'Config the others are compared with (default: the first)' },
      ...DB_OPTION,
    },
  },
  async ({ values, positionals }) => {
    const { port } = values;
    const { html, runIds } = await withStore(values.db, async (store) => {
      const view = loadRunView(store, positionals, { baseline: values.baseline });
      return { html: renderView(view), runIds: view.report.runs.map((r) => r.id) };
    }, { readonly: true });
    const output = values.output ?? join(process.env.BENCH_RESULTS_DIR ?? 'results', `view-${safeName(runIds.join('+'))}.html`);
    if (values.output && !existsSync(dirname(resolve(output)))) throw new UserError(`Cannot write ${output}: the folder ${dirname(resolve(output))} does not exist. Create it or choose another --output.`);
    writeFileAtomic(output, html);
    process.stderr.write(`wrote ${output}\n`);
    if (!values.open) return 0;

    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    process.once('SIGHUP', stop);
    try {
      const { url, closed } = await servePage(html, { port, signal: controller.signal });
      const opened = openInBrowser(url);
      process.stdout.write(`serving ${url} (${opened ? 'opened in your browser; ' : ''}Ctrl-C stops)\n`);
      await closed;
      process.stderr.write('stopped serving.\n');
      return 130;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE' || code === 'EACCES') throw new UserError(`Cannot serve on 127.0.0.1:${port}: ${code === 'EADDRINUSE' ? 'the port is in use' : 'permission denied'}. Leave --port out to take a free port, or pick another.`);
      throw error;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.off('SIGHUP', stop);
    }
  },
);
