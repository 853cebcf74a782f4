import type { RunPlan } from '../runner/index.ts';
import { printJson } from './_command.ts';

/** `bench run --dry-run`: every attempt the run would make, then each config's estimated cost. */
export function printPlan(plan: RunPlan, options: { json?: boolean; maxCost?: number }): void {
  if (options.json) {
    printJson(plan);
    return;
  }
  const lines = plan.attempts.map((job) => `  ${job.instanceId}  ${job.configName}  #${job.repeat}`);
  const done = plan.done ? ` (${plan.done} already in run ${plan.runId}; a resume skips them)` : '';
  const rows = [['config', 'attempts', 'estimated cost', 'estimated from'], ...plan.configs.map((c) => [c.config, String(c.attempts), range(c.low, c.high), c.basis])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const table = rows.map((row) => `  ${row.map((cell, i) => (i === 1 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join('  ')}`.trimEnd());
  const known = plan.configs.every((c) => c.high !== null);
  const total = known ? range(sum(plan.configs.map((c) => c.low!)), sum(plan.configs.map((c) => c.high!))) : 'unknown (see above)';
  const cap = options.maxCost === undefined ? '' : `; ${capNote(options.maxCost, known ? sum(plan.configs.map((c) => c.low!)) : null, known ? sum(plan.configs.map((c) => c.high!)) : null)}`;
  process.stdout.write([
    `Dry run: ${plan.attempts.length} attempt${plan.attempts.length === 1 ? '' : 's'}${done}; no model is called and nothing is written.`,
    ...lines,
    '',
    ...table,
    '',
    `Estimated total: ${total}${cap}.${plan.configs.some((c) => c.low !== c.high) ? ' A range runs from the 25th to the 75th percentile of one recorded attempt\'s cost (at the config\'s prices), times the attempts.' : ''}`,
    '',
  ].join('\n'));
}

function capNote(cap: number, low: number | null, high: number | null): string {
  if (low === null || high === null) return `--max-cost ${money(cap)} may stop it part-way`;
  if (high <= cap) return `within --max-cost ${money(cap)}`;
  return `--max-cost ${money(cap)} ${low > cap ? 'stops it' : 'may stop it'} part-way (a partial run)`;
}

function range(low: number | null, high: number | null): string {
  if (low === null || high === null) return 'unknown';
  return low === high ? money(low) : `${money(low)} - ${money(high)}`;
}

function money(usd: number): string {
  return usd === 0 ? '$0' : usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
