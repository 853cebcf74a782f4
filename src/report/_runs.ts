import { existsSync, rmSync } from 'node:fs';
import Table from 'cli-table3';
import { UserError } from '../errors.ts';
import type { RunRecord, Store } from '../store/index.ts';
import { money } from './_format.ts';
import { findRun } from './_load.ts';

/** One line of `bench runs`. */
export type RunListing = {
  id: string;
  createdAt: string;
  status: RunRecord['status'];
  command: RunRecord['command'];
  suite: string | null;
  configs: string[];
  attempts: number;
  /** Instances x configs x repeats the run set out to make; null for runs that did not record it. */
  planned: number | null;
  resolved: number;
  /** Sum of the known costs; a lower bound when `unknownCost` > 0. */
  knownCost: number;
  unknownCost: number;
};

export function listRuns(store: Store): RunListing[] {
  const totals = store.runTotals();
  return store.listRuns().map((run) => {
    const t = totals.get(run.id) ?? { attempts: 0, resolved: 0, knownCost: 0, unknownCost: 0, configs: 0 };
    const configs = store.configSnapshots(run.id).map((s) => s.name);
    const planned = Array.isArray(run.options.plannedInstances)
      ? run.options.plannedInstances.length * (typeof run.options.runs === 'number' ? run.options.runs : 1) * (run.command === 'eval' ? 1 : configs.length)
      : null;
    return {
      id: run.id, createdAt: run.createdAt, status: run.status, command: run.command, suite: run.suite ?? null, configs,
      attempts: t.attempts, planned, resolved: t.resolved, knownCost: t.knownCost, unknownCost: t.unknownCost,
    };
  });
}

/** `bench runs` as a terminal table, oldest first so the latest is nearest the prompt. */
export function renderRunList(runs: RunListing[]): string {
  if (runs.length === 0) return 'No runs yet. Start one with `bench run` or `bench eval`.\n';
  const table = new Table({
    head: ['run', 'date', 'status', 'configs', 'attempts', 'resolved', 'cost'],
    colAligns: ['left', 'left', 'left', 'left', 'right', 'right', 'right'],
    style: { head: [], border: [], compact: true },
    wordWrap: false,
  });
  for (const run of runs) {
    const attempts = run.planned !== null ? `${run.attempts}/${run.planned}` : String(run.attempts);
    const cost = run.unknownCost === 0 ? money(run.knownCost) : run.knownCost > 0 ? `≥ ${money(run.knownCost)}` : 'unknown';
    const status = run.status === 'finished' && run.planned !== null && run.attempts < run.planned ? 'finished (partial)' : run.status;
    table.push([run.id, run.createdAt.slice(0, 16).replace('T', ' '), status, `${run.command === 'eval' ? 'eval: ' : ''}${run.configs.join(', ') || '–'}`, attempts, String(run.resolved), cost]);
  }
  return `${table.toString()}\n${runs.length} run${runs.length === 1 ? '' : 's'}; \`bench report RUN\` compares its configs, \`bench view RUN\` browses its attempts, \`bench runs rm RUN\` deletes one.\n`;
}

/**
 * Deletes one run (exact id or unique prefix): its rows in one transaction, then its files under
 * results/runs/. A run still marked running is refused unless forced, since a live process may be
 * writing to it.
 */
export function removeRun(store: Store, wanted: string, options: { force?: boolean; runFolder: (id: string) => string }): { id: string; attempts: number; folder: string | null } {
  const run = findRun(store.listRuns(), wanted, store.path);
  if (run.status === 'running' && !options.force) {
    throw new UserError(
      `Run ${run.id} is marked running: a bench process may still be writing to it (or was killed without saying so). Stop it first, or pass --force to delete it anyway.`,
    );
  }
  const { attempts } = store.deleteRun(run.id);
  const folder = options.runFolder(run.id);
  const removed = existsSync(folder) ? folder : null;
  if (removed) rmSync(removed, { recursive: true, force: true });
  return { id: run.id, attempts, folder: removed };
}
