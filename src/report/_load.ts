import { UserError, didYouMean } from '../errors.ts';
import type { RunRecord, Store } from '../store/index.ts';
import type { ReportInput } from './_types.ts';

/**
 * Reads the given runs (full ids or unique prefixes; none = the latest run) with one query per run
 * for attempts and one for config snapshots, and one for the cost per role.
 */
export function loadReportInput(store: Store, runIds: string[]): ReportInput {
  const all = store.listRuns();
  if (all.length === 0) {
    throw new UserError(`The results database ${store.path} holds no runs yet. Run \`bench run\` or \`bench eval\` first, or point --db / $BENCH_DB at another database.`);
  }
  const runs: RunRecord[] = [];
  const wanted = runIds.length === 0 ? [all[all.length - 1]!.id] : runIds;
  for (const wantedId of wanted) {
    const run = findRun(all, wantedId, store.path);
    if (!runs.some((r) => r.id === run.id)) runs.push(run);
  }
  const ids = runs.map((r) => r.id);
  return {
    runs,
    attempts: store.attempts(ids),
    snapshots: ids.flatMap((runId) => store.configSnapshots(runId).map((s) => ({ runId, ...s }))),
    roleCosts: store.roleCosts(ids),
  };
}

export function findRun(all: RunRecord[], wanted: string, path: string): RunRecord {
  const exact = all.find((r) => r.id === wanted);
  if (exact) return exact;
  const byPrefix = wanted.length > 0 ? all.filter((r) => r.id.startsWith(wanted)) : [];
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1) {
    throw new UserError(`Run id \`${wanted}\` is ambiguous in ${path}: it starts ${byPrefix.length} runs (${byPrefix.slice(0, 5).map((r) => r.id).join(', ')}). Give more of the id.`);
  }
  const recent = all.slice(-5).map((r) => r.id).join(', ');
  throw new UserError(`No run \`${wanted}\` in ${path}.${didYouMean(wanted, all.map((r) => r.id))} The latest runs are: ${recent}.`);
}
