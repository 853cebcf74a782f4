import { defineCommand } from './_command.ts';
import { LEADERBOARD_END as END, LEADERBOARD_START as START, leaderboardOf, writeLeaderboard } from '../results/index.ts';

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
    const { table, count } = await leaderboardOf(values.dir ?? 'results/verified');
    if (values.write) {
      writeLeaderboard(values.write, table);
      process.stderr.write(`updated the leaderboard in ${values.write} (${count} results)\n`);
    } else process.stdout.write(table);
    return 0;
  },
);
