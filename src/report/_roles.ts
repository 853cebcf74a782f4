import type { LlmCallRecord, RoleCostRow } from '../store/index.ts';
import type { RoleCost } from './_types.ts';

type RoleCalls = Pick<RoleCostRow, 'role' | 'llmConfig' | 'model' | 'calls' | 'knownCostUsd' | 'unknownCalls'>;

/** Explorer first, then the writer, then the main config beside an explorer: the order the work runs. */
const ROLE_ORDER = ['explorer', 'writer', 'main'];

/** Sums calls per role and LLM config, in the order the roles work. */
export function sumByRole(rows: Iterable<RoleCalls>): RoleCost[] {
  const roles = new Map<string, RoleCost>();
  for (const row of rows) {
    const key = `${row.role}\u0000${row.llmConfig}`;
    let role = roles.get(key);
    if (!role) roles.set(key, (role = { role: row.role, config: row.llmConfig, model: row.model, calls: 0, knownCost: 0, costUnknown: false, unknownCalls: 0 }));
    role.calls += row.calls;
    // Drops float noise from sums of many prices.
    role.knownCost = Number((role.knownCost + row.knownCostUsd).toPrecision(12));
    role.unknownCalls += row.unknownCalls;
    role.costUnknown = role.unknownCalls > 0;
    role.model ??= row.model;
  }
  const rank = (role: string) => (ROLE_ORDER.includes(role) ? ROLE_ORDER.indexOf(role) : ROLE_ORDER.length);
  return [...roles.values()].sort((a, b) => rank(a.role) - rank(b.role) || a.config.localeCompare(b.config));
}

/** One attempt's cost per role; empty when every call was the one config's (`main`). */
export function roleCostsOfCalls(calls: Pick<LlmCallRecord, 'role' | 'configName' | 'model' | 'costUsd'>[]): RoleCost[] {
  if (calls.every((call) => call.role === 'main')) return [];
  return sumByRole(calls.map((call) => ({
    role: call.role, llmConfig: call.configName, model: call.model ?? null, calls: 1,
    knownCostUsd: call.costUsd ?? 0, unknownCalls: call.costUsd === null ? 1 : 0,
  })));
}
