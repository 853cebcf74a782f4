import { costCell, csvField, roleCostCell } from './_format.ts';
import type { Report } from './_types.ts';

/** The per-config summary as CSV (RFC 4180: CRLF line ends, quoted fields where needed). */
export function renderCsv(report: Report): string {
  const header = [
    'config', 'config_name', 'settings_hash', 'agent', 'agent_settings_hash', 'submit', 'differs', 'model', 'runs', 'instances', 'repeats', 'attempts', 'resolved', 'rate', 'rate_low', 'rate_high', 'rate_excluding_infra',
    'unresolved', 'patch_failed', 'timeout', 'malformed', 'model_error', 'infra_error', 'empty_patch', 'tampered',
    'cost_unknown', 'unknown_cost_attempts', 'known_cost_usd', 'total_cost_usd', 'cost_per_task_usd', 'cost_per_resolved_usd', 'cost_shown', 'cost_by_role',
    'tokens_in', 'tokens_out', 'tokens_cache_read', 'tokens_cache_write', 'mean_duration_ms', 'p95_duration_ms', 'calls', 'retries',
    'infra_retries', 'malformed_responses', 'pass_at_1', 'pass_at_k', 'k', 'on_frontier', 'beaten_by',
    'interval_over', 'partial', 'covered_instances', 'planned_instances', 'suite_instances', 'planned_attempts', 'partial_reasons',
  ];
  const num = (x: number | null) => (x === null ? '' : String(x));
  const lines = report.configs.map((c) => [
    c.config, c.configName, c.settingsHash, c.agent, c.agentSettingsHash, c.submit ?? '', c.differs.join('; '), c.model ?? '', c.runIds.join(' '), num(c.instances), num(c.repeats), num(c.total), num(c.resolved), num(c.rate), num(c.rateLow),
    num(c.rateHigh), num(c.rateExcludingInfra), num(c.outcomes.unresolved), num(c.outcomes.patch_failed),
    num(c.outcomes.timeout), num(c.outcomes.malformed), num(c.outcomes.model_error), num(c.outcomes.infra_error), num(c.outcomes.empty_patch), num(c.outcomes.tampered),
    String(c.costUnknown), num(c.unknownCostAttempts), num(c.knownCost), num(c.totalCost), num(c.costPerTask), num(c.costPerResolved),
    costCell(c, 'total'), c.costByRole.length > 0 ? roleCostCell(c) : '', num(c.tokensIn), num(c.tokensOut), num(c.tokensCacheRead), num(c.tokensCacheWrite), num(c.meanDurationMs),
    num(c.p95DurationMs), num(c.calls), num(c.retries), num(c.infraRetries), num(c.malformedResponses), num(c.passAt1), num(c.passAtK),
    num(c.passK), String(c.onFrontier), c.beatenBy ?? '',
    c.interval, String(c.coverage.partial), num(c.coverage.instances), num(c.coverage.plannedInstances), num(c.coverage.suiteInstances),
    num(c.coverage.plannedAttempts), c.coverage.reasons.join('; '),
  ]);
  return [header, ...lines].map((fields) => `${fields.map(csvField).join(',')}\r\n`).join('');
}
