import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineCommand } from './_command.ts';
import { UserError } from '../errors.ts';
import { renderLeaderboard } from '../report/index.ts';
import { readResultsFile } from '../runner/index.ts';

const START = '<!-- leaderboard:start -->';
const END = '<!-- leaderboard:end -->';

export default defineCommand(
  {
    name: 'leaderboard',
    summary: 'Render every results file in results/verified/ as a Markdown leaderboard (and update README.md between its leaderboard markers).',
    usage: 'bench leaderboard [--dir DIR] [--write README.md]',
    options: {
      dir: { type: 'string', value: 'DIR', description: 'Folder of results files (default results/verified)' },
      write: { type: 'string', value: 'FILE', description: `Replace the text between ${START} and ${END} in FILE` },
    },
  },
  async ({ values }) => {
    const dir = values.dir ?? 'results/verified';
    const names = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.json')).sort() : [];
    const entries = names.map((name) => ({ name, file: readResultsFile(join(dir, name)) }));
    const table = renderLeaderboard(entries);
    if (values.write) {
      const text = readFileSync(values.write, 'utf8');
      const start = text.indexOf(START);
      const end = text.indexOf(END);
      if (start < 0 || end < start) throw new UserError(`${values.write} has no ${START} ... ${END} markers. Add them where the leaderboard should go.`);
      writeFileSync(values.write, `${text.slice(0, start + START.length)}\n${table}${text.slice(end)}`);
      process.stderr.write(`updated the leaderboard in ${values.write} (${entries.length} results)\n`);
    } else process.stdout.write(table);
    return 0;
  },
);
