import { Interrupted, UserError, didYouMean } from '../errors.ts';
import type { Command } from './_command.ts';

// Each command is imported only when it runs, so `bench --help` stays fast.
const commands: Record<string, { summary: string; load: () => Promise<{ default: Command }> }> = {
  run: { summary: 'Run tasks against named LLM configs, grade the patches, store the results', load: () => import('./run.ts') },
  eval: { summary: 'Grade a predictions file (SWE-bench format) or the gold patches', load: () => import('./eval.ts') },
  tasks: { summary: 'List, show and validate task instances', load: () => import('./tasks.ts') },
  configs: { summary: 'Show each resolved LLM config and where its values came from', load: () => import('./configs.ts') },
  show: { summary: 'Show one attempt: outcome, patch, tests and trajectory', load: () => import('./show.ts') },
  report: { summary: 'Compare configs across runs: rates, intervals, cost, frontier', load: () => import('./report.ts') },
  export: { summary: 'Export a run for one config as a verifiable results file', load: () => import('./export.ts') },
  verify: { summary: 'Re-grade an exported results file and check every claimed outcome', load: () => import('./verify.ts') },
  runs: { summary: 'List the runs in the store, or delete one (`bench runs rm RUN`)', load: () => import('./runs.ts') },
  view: { summary: 'Write (or serve with --open) an HTML viewer of a run: the comparison and every attempt', load: () => import('./view.ts') },
  sandbox: { summary: 'List sandbox backends; remove containers a killed run left behind', load: () => import('./sandbox.ts') },
  images: { summary: 'Check the container images a suite needs; build the toolchain image', load: () => import('./images.ts') },
  leaderboard: { summary: 'Render results/verified/ as a Markdown leaderboard', load: () => import('./leaderboard.ts') },
  worker: { summary: 'Run attempts from a Redis queue (`bench run --queue`) on this machine', load: () => import('./worker.ts') },
  queue: { summary: 'Show the runs of a Redis queue: waiting, active, failed, finished', load: () => import('./queue.ts') },
};

export const VERSION = '0.1.0';

function mainHelp(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = [
    'bench: which LLM (and which settings of it) is worth using for coding work',
    '',
    'Usage: bench <command> [options]',
    '',
    'Commands:',
    ...Object.entries(commands).map(([name, { summary }]) => `  ${name.padEnd(width)}  ${summary}`),
    '',
    'Run `bench <command> --help` for the options of one command.',
    'Exit codes: 0 success, 1 failures you asked to treat as errors, 2 bad usage or input, 130 interrupted.',
  ];
  return `${lines.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const entry = commands[name];
  if (!entry) {
    process.stderr.write(`bench: unknown command \`${name}\`.${didYouMean(name, Object.keys(commands))} Run \`bench --help\` for the list.\n`);
    return 2;
  }
  try {
    const command = (await entry.load()).default;
    return await command.run(rest);
  } catch (error) {
    // The config stage (and its schema library) loads only for an internal error: its report is the one that masks URLs.
    const expected = error instanceof UserError || error instanceof Interrupted;
    const maskUrlsIn = expected ? (text: string) => text : (await import('../config/index.ts')).maskUrlsIn;
    return reportError(error, argv, maskUrlsIn);
  }
}

export function reportError(error: unknown, argv: string[], maskUrlsIn: (text: string) => string): number {
  if (error instanceof UserError) {
    const details = error.details.length ? `\n${error.details.map((d) => `  - ${d}`).join('\n')}` : '';
    process.stderr.write(`error: ${error.message}${details}\n`);
    return error.exitCode;
  }
  if (error instanceof Interrupted) {
    process.stderr.write(`${error.message}\n`);
    return 130;
  }
  const err = error as Error;
  process.stderr.write(
    [
      `internal error: ${maskUrlsIn(err?.message ?? String(error))}`,
      'This is a bug in bench. Please file an issue with this report:',
      `  bench ${VERSION}, node ${process.version}, ${process.platform}-${process.arch}`,
      `  command: bench ${argv.map((a) => (/key|token|secret/i.test(a) ? '***' : maskUrlsIn(a))).join(' ')}`,
      `  ${(err?.stack ?? '').split('\n').slice(1, 6).map((l) => l.trim().replace(process.env.HOME ?? '\u0000', '~')).join('\n  ')}`,
      '',
    ].join('\n'),
  );
  return 3;
}
