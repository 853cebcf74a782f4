/**
 * Start-up time of the commands a user runs most, with the pinned Node (node_modules/node/bin/node,
 * the one bin/bench.js runs on), against `node -e 0` on the same interpreter in the same run:
 *   bench --help, bench eval --help, bench report on an empty store.
 * The commands alternate, repeat by repeat, so a change in the machine's load reaches each alike.
 * One run of each first fills Node's compile cache (as the first command after an install does);
 * the figures are min / median / max of the wall time of the later runs, and each over the baseline.
 *   node scripts/bench-startup.ts [--repeats 15] [--json]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../src/store/index.ts';
import { spread } from './_spread.ts';

const at = process.argv.indexOf('--repeats');
const repeats = at >= 0 ? Number(process.argv[at + 1]) : 15;
if (!Number.isInteger(repeats) || repeats < 3) throw new Error('--repeats needs a whole number of at least 3');
const asJson = process.argv.includes('--json');

const root = join(import.meta.dirname, '..');
const pinned = join(root, 'node_modules', 'node', 'bin', 'node');
const node = existsSync(pinned) ? pinned : process.execPath;
const bench = join(root, 'bin', 'bench.js');
const dir = mkdtempSync(join(tmpdir(), 'bench-startup-'));
const db = join(dir, 'bench.db');
Store.open(db).close();

const env = { ...process.env, BENCH_DB: db, BENCH_RESULTS_DIR: join(dir, 'results'), NO_COLOR: '1' };
const commands: { name: string; args: string[]; target?: number }[] = [
  { name: 'node -e 0 (baseline)', args: ['-e', '0'] },
  { name: 'bench --help', args: [bench, '--help'], target: 80 },
  { name: 'bench eval --help', args: [bench, 'eval', '--help'], target: 120 },
  { name: 'bench report (empty store)', args: [bench, 'report'], target: 120 },
];

function once(args: string[]): { ms: number; status: number | null; output: string } {
  const started = performance.now();
  const result = spawnSync(node, args, { env, cwd: dir, encoding: 'utf8' });
  return { ms: performance.now() - started, status: result.status, output: `${result.stdout}${result.stderr}` };
}

try {
  const load = loadavg()[0]!;
  const statuses = commands.map((command) => once(command.args));
  const times = commands.map(() => [] as number[]);
  for (let r = 0; r < repeats; r++) {
    commands.forEach((command, index) => times[index]!.push(once(command.args).ms));
  }
  const baseline = spread(times[0]!, 1);
  const results = commands.map((command, index) => {
    const ms = spread(times[index]!, 1);
    const overBaseline = spread(times[index]!.map((t, r) => t / times[0]![r]!), 1);
    return { command: command.name, exit: statuses[index]!.status, ms, over_baseline: overBaseline, target_ms: command.target ?? null };
  });
  if (asJson) {
    console.log(JSON.stringify({ node, cpus: cpus().length, load_average_at_start: Number(load.toFixed(2)), repeats, baseline_ms: baseline, results }, null, 2));
  } else {
    console.log(`bench-startup: ${node} (${process.version}), ${cpus().length} CPUs, load average ${load.toFixed(2)} at start, ${repeats} repeats, wall ms min / median / max`);
    for (const result of results) {
      const ratio = result === results[0] ? '' : `; over the baseline ${result.over_baseline.min} / ${result.over_baseline.median} / ${result.over_baseline.max}`;
      const target = result.target_ms === null ? '' : `; target <= ${result.target_ms} ms`;
      console.log(`${result.command.padEnd(28)} ${result.ms.min} / ${result.ms.median} / ${result.ms.max} ms (exit ${result.exit})${ratio}${target}`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
