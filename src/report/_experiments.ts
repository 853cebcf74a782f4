import { canonicalJson, sha256 } from '../hash.ts';
import type { RunRecord } from '../store/index.ts';
import type { ReportInput } from './_types.ts';

/**
 * What a report row stands for: one config name with one set of settings, run by one agent with
 * one set of its settings and one submission convention. Runs that agree on all four pool into
 * one row; runs that differ in any of them are separate rows.
 */
export type Experiment = {
  key: string;
  configName: string;
  /** Unique across the report: the config name, plus what sets it apart from same-named rows. */
  label: string;
  /** `key value` for each thing that differs from another row of the same config name. */
  differs: string[];
  model: string | null;
  settings: Record<string, unknown>;
  settingsHash: string;
  agent: string;
  agentSettings: Record<string, unknown>;
  agentSettingsHash: string;
  /** `explicit`, `autosubmit`, ... when the agent states one. */
  submit: string | null;
};

/** Agent setting keys that describe the agent rather than tune it; the agent's name is shown apart. */
const AGENT_NAME_KEYS = new Set(['agent']);

export type Experiments = {
  list: Experiment[];
  /** The experiment of a config in a run (attempts of one config in one run share it). */
  of(runId: string, configName: string, agentOfAttempt: string): Experiment;
};

export function experimentsOf(input: ReportInput): Experiments {
  const runs = new Map(input.runs.map((r) => [r.id, r]));
  const byKey = new Map<string, Experiment>();
  const byRunConfig = new Map<string, Experiment>();
  const snapshot = new Map(input.snapshots.map((s) => [`${s.runId}\u0000${s.name}`, s]));

  const make = (runId: string, configName: string, agentOfAttempt: string | null): Experiment => {
    const run = runs.get(runId);
    const snap = snapshot.get(`${runId}\u0000${configName}`);
    const settings = snap?.settings ?? {};
    const stored = agentEntry(run, configName);
    const agent = String(stored?.agent ?? agentOfAttempt ?? run?.agent ?? 'unknown');
    const agentSettings = Object.fromEntries(Object.entries(stored ?? {}).filter(([k]) => !AGENT_NAME_KEYS.has(k)));
    const submit = typeof agentSettings.submit === 'string' ? agentSettings.submit : null;
    const settingsHash = sha256(canonicalJson(settings)).slice(0, 12);
    const agentSettingsHash = sha256(canonicalJson(agentSettings)).slice(0, 12);
    const key = [configName, settingsHash, agent, agentSettingsHash, submit ?? ''].join('\u0000');
    let experiment = byKey.get(key);
    if (!experiment) {
      experiment = { key, configName, label: configName, differs: [], model: snap?.model ?? null, settings, settingsHash, agent, agentSettings, agentSettingsHash, submit };
      byKey.set(key, experiment);
    } else if (experiment.model === null && snap?.model) experiment.model = snap.model;
    return experiment;
  };

  // Snapshots first, in the runs' order, so "the first config" stays the first one named.
  for (const s of input.snapshots) {
    const id = `${s.runId}\u0000${s.name}`;
    if (!byRunConfig.has(id)) byRunConfig.set(id, make(s.runId, s.name, null));
  }
  for (const a of input.attempts) {
    const id = `${a.runId}\u0000${a.configName}`;
    if (!byRunConfig.has(id)) byRunConfig.set(id, make(a.runId, a.configName, a.agent));
  }
  const list = [...byKey.values()];
  label(list);
  return {
    list,
    of: (runId, configName, agentOfAttempt) => byRunConfig.get(`${runId}\u0000${configName}`) ?? make(runId, configName, agentOfAttempt),
  };
}

function agentEntry(run: RunRecord | undefined, configName: string): Record<string, unknown> | undefined {
  const agents = run?.options.agents as Record<string, Record<string, unknown>> | undefined;
  const entry = agents?.[configName];
  return entry && typeof entry === 'object' ? entry : undefined;
}

/** What tells experiments apart: the agent, its submission convention, the config's and the agent's settings. */
export type Facets = { agent: string; submit: string | null; settings: Record<string, unknown>; agentSettings: Record<string, unknown> };

/** For each item, `key value` for every facet whose value is not the same across all of them. */
export function differences(items: Facets[]): string[][] {
  const facets: { name: string; value: (e: Facets) => unknown }[] = [
    { name: 'agent', value: (e) => e.agent },
    { name: 'submit', value: (e) => e.submit },
    ...keysOf(items.map((e) => e.settings)).map((k) => ({ name: k, value: (e: Facets) => e.settings[k] })),
    ...keysOf(items.map((e) => e.agentSettings)).filter((k) => k !== 'submit' && !AGENT_NAME_KEYS.has(k)).map((k) => ({ name: `agent.${k}`, value: (e: Facets) => e.agentSettings[k] })),
  ];
  const varying = facets.filter((f) => new Set(items.map((e) => canonicalJson(f.value(e) ?? null))).size > 1);
  return items.map((e) => varying.map((f) => `${f.name} ${shown(f.value(e))}`));
}

/** Names same-named experiments by what differs between them: `gpt3 (agent patch, temperature 1.5)`. */
function label(list: Experiment[]): void {
  const groups = new Map<string, Experiment[]>();
  for (const e of list) groups.set(e.configName, [...(groups.get(e.configName) ?? []), e]);
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const differs = differences(group);
    group.forEach((e, i) => {
      e.differs = differs[i]!;
      e.label = `${e.configName} (${e.differs.length > 0 ? e.differs.join(', ') : `settings ${e.settingsHash.slice(0, 8)}`})`;
    });
    // Two rows must never read the same, whatever the values look like once shortened.
    const seen = new Map<string, number>();
    for (const e of group) seen.set(e.label, (seen.get(e.label) ?? 0) + 1);
    for (const e of group) if (seen.get(e.label)! > 1) e.label = `${e.label.slice(0, -1)}, #${e.settingsHash.slice(0, 6)}${e.agentSettingsHash.slice(0, 6)})`;
  }
}

function keysOf(objects: Record<string, unknown>[]): string[] {
  return [...new Set(objects.flatMap((o) => Object.keys(o)))].sort();
}

function shown(value: unknown): string {
  if (value === undefined || value === null) return 'unset';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
