import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { defineCommand } from './_command.ts';
import { useColor, withStore } from './_session.ts';
import { DB_OPTION } from './_options.ts';
import { UserError } from '../errors.ts';
// The formats and the store read alone at first: a store with no runs is refused before the report stage loads.
import { loadReportInput } from '../report/_load.ts';
import { REPORT_FORMATS } from '../report/_types.ts';

export default defineCommand(
  {
    name: 'report',
    summary: 'Compare configs from the store alone: resolve rate with 95% intervals, outcomes, cost per resolved task, paired tests against a baseline, the cost/rate frontier.',
    usage: 'bench report [RUN_ID...] [--format table|md|json|csv|html] [--baseline CONFIG] [--output FILE]',
    positionals: { min: 0, max: 50, names: 'RUN_ID...' },
    options: {
      format: { type: 'choice', choices: REPORT_FORMATS, default: 'table', value: REPORT_FORMATS.join('|'), description: 'Output format' },
      baseline: { type: 'string', value: 'CONFIG', description: 'Config the others are compared with (default: the first)' },
      output: { type: 'string', short: 'o', value: 'FILE', description: 'Write to FILE (html defaults to $BENCH_RESULTS_DIR/report.html, else results/report.html)' },
      ...DB_OPTION,
    },
  },
  async ({ values, positionals }) => {
    const { format } = values;
    return withStore(values.db, async (store) => {
      const input = loadReportInput(store, positionals);
      const { buildReport, renderReport } = await import('../report/index.ts');
      const report = buildReport(input, { baseline: values.baseline });
      const text = renderReport(report, format, { color: format === 'table' && !values.output && useColor() });
      const output = values.output ?? (format === 'html' ? join(process.env.BENCH_RESULTS_DIR ?? 'results', 'report.html') : undefined);
      if (output) {
        if (!values.output) mkdirSync(dirname(output), { recursive: true });
        if (!existsSync(dirname(resolve(output)))) throw new UserError(`Cannot write ${output}: the folder ${dirname(resolve(output))} does not exist. Create it or choose another --output.`);
        writeFileSync(output, text);
        process.stderr.write(`wrote ${output}\n`);
      } else process.stdout.write(text);
      return 0;
    }, { readonly: true });
  },
);
