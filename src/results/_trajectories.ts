import { join } from 'node:path';
import { toMiniTrajectory } from '../agents/index.ts';
import { UserError, didYouMean } from '../errors.ts';
import type { Store } from '../store/index.ts';
import { HARNESS_VERSION } from '../version.ts';
import { safeName, writeFileAtomic } from './_files.ts';

/**
 * Every attempt of one config of a run as a mini-swe-agent `.traj.json` file, named
 * `<instance_id>.traj.json` (`<instance_id>.<repeat>.traj.json` for later repeats), from the store alone.
 */
export function trajectoryFiles(store: Store, runId: string, configName: string, harnessVersion: string = HARNESS_VERSION): { name: string; content: string }[] {
  const run = store.getRun(runId);
  if (!run) throw new UserError(`No run \`${runId}\` in ${store.path}.${didYouMean(runId, store.listRuns().map((r) => r.id))}`);
  const rows = store.attempts([runId]).filter((a) => a.configName === configName);
  const agentSettings = (run.options.agents as Record<string, Record<string, unknown>> | undefined)?.[configName];
  return rows.map((row) => {
    const full = store.attempt(row.id)!;
    const models: Record<string, string> = {};
    for (const call of full.llmCalls) if (call.model) models[call.configName] ??= call.model;
    const traj = toMiniTrajectory({
      instanceId: row.instanceId, agent: row.agent, configName, trajectory: full.trajectory, patch: full.patch ?? '',
      exitReason: row.exitReason ?? null, costUsd: row.costUnknown ? null : row.costUsd, calls: row.calls,
      ...(agentSettings ? { agentSettings } : {}), models, harnessVersion,
    });
    const name = `${safeName(row.instanceId)}${row.repeat > 0 ? `.${row.repeat}` : ''}.traj.json`;
    return { name, content: `${JSON.stringify(traj, null, 2)}\n` };
  });
}

/** Writes the trajectories of an export into `<export base>.trajs/`; returns that folder and how many were written. */
export function writeTrajectories(store: Store, runId: string, configName: string, exportPath: string): { dir: string; count: number } {
  const dir = `${exportPath.replace(/\.json$/, '')}.trajs`;
  const files = trajectoryFiles(store, runId, configName);
  for (const file of files) writeFileAtomic(join(dir, file.name), file.content);
  return { dir, count: files.length };
}
