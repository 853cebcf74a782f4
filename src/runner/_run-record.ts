import { withoutSecrets } from '../config/index.ts';
import { UserError } from '../errors.ts';
import type { Store } from '../store/index.ts';
import { canonicalJson, sha256, type Instance, type TaskSet } from '../tasks/index.ts';
import { HARNESS_VERSION, gitCommit } from '../version.ts';
import type { Arm } from './_arms.ts';
import { instanceRows } from './_attempt.ts';

export type RunPlan = {
  store: Store; runId: string; arms: Arm[]; taskSet: TaskSet; instances: Instance[];
  runs: number; jobs: number; maxCost?: number; sandbox: string; commandLine?: string[];
};

/** Creates the run in the store, or checks that a resumed one is the same experiment. */
export function startRun(plan: RunPlan): void {
  const { store, runId, arms, taskSet, instances } = plan;
  const existing = store.getRun(runId);
  if (existing) {
    checkResumable(plan, existing.command);
    store.updateRunStatus(runId, 'running');
  } else {
    store.createRun({
      id: runId, createdAt: new Date().toISOString(), status: 'running', command: 'run', harnessVersion: HARNESS_VERSION, gitCommit: gitCommit(),
      suite: taskSet.name, suiteHash: taskSet.hash, agent: arms[0]?.agentName ?? null,
      options: { runs: plan.runs, jobs: plan.jobs, maxCost: plan.maxCost ?? null, sandbox: plan.sandbox, argv: plan.commandLine ?? [],
        // What the run set out to do, so a report can say when it covers only part of it.
        suiteInstances: taskSet.instances.length, plannedInstances: instances.map((i) => i.instance_id),
        agents: Object.fromEntries(arms.map((arm) => [arm.name, { agent: arm.agentName, ...arm.settings }])) },
    });
  }
  const saved = new Set(store.configSnapshots(runId).map((s) => s.name));
  for (const arm of arms) if (!saved.has(arm.name)) store.saveConfigSnapshot(runId, arm.name, armModel(arm), snapshotOf(arm));
  store.saveInstances(instanceRows(taskSet, instances));
}

/** A resumed run must be the same experiment: same suite, same settings for every config it already has. */
function checkResumable(plan: RunPlan, command: string): void {
  const { store, runId, arms, taskSet } = plan;
  const fix = 'Resume with the same configs, settings and suite, or pass a new --run-id.';
  if (command !== 'run') throw new UserError(`Run ${runId} is a \`bench ${command}\` run; \`bench run\` cannot resume it. ${fix}`);
  const run = store.getRun(runId)!;
  if (run.suiteHash && run.suiteHash !== taskSet.hash) throw new UserError(`Run ${runId} was made on another version of suite ${run.suite}. ${fix}`);
  const snapshots = new Map(store.configSnapshots(runId).map((s) => [s.name, s.settings]));
  for (const arm of arms) {
    const before = snapshots.get(arm.name);
    if (before && canonicalJson(before) !== canonicalJson(snapshotOf(arm))) {
      throw new UserError(`Run ${runId} was started with other settings for config \`${arm.name}\` (\`bench configs\` shows the current ones). ${fix}`);
    }
  }
}

/** A config as the store keeps it: every setting but the secrets. */
export function snapshotOf(arm: Arm): Record<string, unknown> {
  const settings = arm.llm ? withoutSecrets(arm.llm.settings as Record<string, unknown>) : { baseline: arm.name };
  return { ...settings, ...(arm.explorer ? { explorer: { name: arm.explorer.name, ...withoutSecrets(arm.explorer.settings as Record<string, unknown>) } } : {}) };
}

/** The content hash of an arm (settings without secrets, agent and its limits): equal on every machine that resolves it alike. */
export function armHash(arm: Arm): string {
  return sha256(canonicalJson({ config: snapshotOf(arm), agent: arm.agentName, settings: arm.settings }));
}

/** The model a report row names: both, explorer first, for a two-config agent's `explorer+writer` column. */
function armModel(arm: Arm): string | undefined {
  if (arm.explorer && arm.llm && arm.name === `${arm.explorer.name}+${arm.llm.name}`) return `${arm.explorer.settings.model}+${arm.llm.settings.model}`;
  return arm.llm?.settings.model;
}
