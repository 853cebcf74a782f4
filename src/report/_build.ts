import { UserError, didYouMean } from '../errors.ts';
import { OUTCOMES } from '../store/index.ts';
import type { AttemptRow, Outcome } from '../store/index.ts';
import { MARKS, NOT_RUN, money } from './_format.ts';
import { experimentsOf, type Experiment } from './_experiments.ts';
import { beats, clusteredRate, pairedDifference, paretoFrontier, passAtK, percentileSorted, wilson, mcnemarExact } from './_stats.ts';
import type { ConfigSummary, Coverage, MatrixCell, PairwiseComparison, Report, ReportInput } from './_types.ts';
import { sumByRole } from './_roles.ts';

/** Attempts of one config on one instance. */
type InstanceTally = { attempts: number; resolved: number; first: AttemptRow; firstRun: number; ids: number[] };

/** Running sums for one config, filled in a single pass over the attempts. */
type ConfigTally = {
  config: string;
  experiment: Experiment;
  runIds: string[];
  total: number;
  resolved: number;
  outcomes: Record<Outcome, number>;
  unknownCostAttempts: number;
  knownCost: number;
  tokensIn: number;
  tokensOut: number;
  tokensCacheRead: number;
  tokensCacheWrite: number;
  durations: number[];
  calls: number;
  retries: number;
  infraRetries: number;
  malformedResponses: number;
  byInstance: Map<string, InstanceTally>;
  /** The cost-per-role rows of its attempts that had several roles. */
  roles: ReportInput['roleCosts'];
};

/** Turns stored runs into plain, JSON-serialisable figures; the baseline defaults to the first config. */
export function buildReport(input: ReportInput, options: { baseline?: string } = {}): Report {
  const runIndex = new Map(input.runs.map((run, i) => [run.id, i]));
  const experiments = experimentsOf(input);
  const tallies = new Map<string, ConfigTally>();
  // Rows in the order the runs list their configs, so "the first config" is stable.
  for (const experiment of experiments.list) tallies.set(experiment.label, newTally(experiment));

  for (const attempt of input.attempts) {
    const experiment = experiments.of(attempt.runId, attempt.configName, attempt.agent);
    let tally = tallies.get(experiment.label);
    if (!tally) tallies.set(experiment.label, (tally = newTally(experiment)));
    addAttempt(tally, attempt, runIndex.get(attempt.runId) ?? input.runs.length);
  }
  for (const row of input.roleCosts) {
    const tally = tallies.get(experiments.of(row.runId, row.configName, row.agent).label);
    tally?.roles.push(row);
  }

  const notes: string[] = [];
  const unattempted = [...tallies.values()].filter((t) => t.total === 0).map((t) => t.config);
  if (unattempted.length > 0) notes.push(`No attempts recorded yet for ${unattempted.join(', ')}; left out.`);
  const active = [...tallies.values()].filter((t) => t.total > 0);

  const configs = active.map((tally) => summarise(tally, input));
  const frontier = markFrontier(configs);
  const baseline = chooseBaseline(configs, options.baseline);
  const byName = new Map(active.map((t) => [t.config, t]));
  const pairwise = baseline === null ? [] : active.filter((t) => t.config !== baseline).map((t) => compare(byName.get(baseline)!, t));

  addNotes(notes, input, configs);
  const partial = configs.some((c) => c.coverage.partial);
  return {
    runs: input.runs.map((r) => ({ id: r.id, createdAt: r.createdAt, status: r.status, command: r.command, suite: r.suite ?? null, agent: r.agent ?? null })),
    partial,
    baseline,
    configs,
    pairwise,
    frontier: frontier.map((c) => c.config),
    frontierLeftOut: configs.filter((c) => c.costPerTask === null || c.failedOnly).map((c) => c.config),
    matrix: buildMatrix(active),
    notes,
  };
}

function newTally(experiment: Experiment): ConfigTally {
  return {
    config: experiment.label, experiment, runIds: [], total: 0, resolved: 0, outcomes: Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>,
    unknownCostAttempts: 0, knownCost: 0, tokensIn: 0, tokensOut: 0, tokensCacheRead: 0, tokensCacheWrite: 0, durations: [],
    calls: 0, retries: 0, infraRetries: 0, malformedResponses: 0, byInstance: new Map(), roles: [],
  };
}

function addAttempt(t: ConfigTally, a: AttemptRow, run: number): void {
  if (!t.runIds.includes(a.runId)) t.runIds.push(a.runId);
  const resolved = a.outcome === 'resolved';
  t.total++;
  if (resolved) t.resolved++;
  t.outcomes[a.outcome] = (t.outcomes[a.outcome] ?? 0) + 1;
  // A null cost is unknown even when the flag was not set: never count it as free.
  if (a.costUnknown || a.costUsd === null) t.unknownCostAttempts++;
  t.knownCost += a.costUsd ?? 0;
  t.tokensIn += a.tokensIn;
  t.tokensOut += a.tokensOut;
  t.tokensCacheRead += a.tokensCacheRead;
  t.tokensCacheWrite += a.tokensCacheWrite;
  t.durations.push(a.durationMs);
  t.calls += a.calls;
  t.retries += a.retries;
  t.infraRetries += a.infraRetries;
  t.malformedResponses += a.malformedCount;
  const seen = t.byInstance.get(a.instanceId);
  if (!seen) {
    t.byInstance.set(a.instanceId, { attempts: 1, resolved: resolved ? 1 : 0, first: a, firstRun: run, ids: [a.id] });
    return;
  }
  seen.attempts++;
  seen.ids.push(a.id);
  if (resolved) seen.resolved++;
  if (run < seen.firstRun || (run === seen.firstRun && a.repeat < seen.first.repeat)) {
    seen.first = a;
    seen.firstRun = run;
  }
}

function summarise(t: ConfigTally, input: ReportInput): ConfigSummary {
  const infra = t.outcomes.infra_error;
  const costUnknown = t.unknownCostAttempts > 0;
  const durations = Float64Array.from(t.durations).sort();
  let mean = 0;
  for (const d of durations) mean += d / durations.length;
  let repeats = 0;
  for (const i of t.byInstance.values()) repeats = Math.max(repeats, i.attempts);
  // Repeated attempts on one instance are not independent: rate and interval are over instances then.
  const clustered = repeats > 1 ? clusteredRate([...t.byInstance.values()]) : null;
  const interval = clustered ?? { rate: t.resolved / t.total, ...wilson(t.resolved, t.total) };
  const e = t.experiment;
  return {
    config: t.config,
    configName: e.configName,
    differs: e.differs,
    settingsHash: e.settingsHash,
    agent: e.agent,
    agentSettingsHash: e.agentSettingsHash,
    submit: e.submit,
    model: e.model,
    runIds: t.runIds,
    instances: t.byInstance.size,
    repeats,
    total: t.total,
    resolved: t.resolved,
    rate: interval.rate,
    rateLow: interval.low,
    rateHigh: interval.high,
    interval: clustered ? 'instances' : 'attempts',
    rateExcludingInfra: t.total > infra ? t.resolved / (t.total - infra) : null,
    outcomes: t.outcomes,
    costUnknown,
    unknownCostAttempts: t.unknownCostAttempts,
    knownCost: tidy(t.knownCost),
    totalCost: costUnknown ? null : tidy(t.knownCost),
    costPerTask: costUnknown ? null : tidy(t.knownCost / t.total),
    costPerResolved: costUnknown || t.resolved === 0 ? null : tidy(t.knownCost / t.resolved),
    costByRole: sumByRole(t.roles),
    tokensIn: t.tokensIn,
    tokensOut: t.tokensOut,
    tokensCacheRead: t.tokensCacheRead,
    tokensCacheWrite: t.tokensCacheWrite,
    meanDurationMs: mean,
    p95DurationMs: percentileSorted(durations, 0.95),
    calls: t.calls,
    retries: t.retries,
    infraRetries: t.infraRetries,
    malformedResponses: t.malformedResponses,
    ...passRates(t, repeats),
    coverage: coverageOf(t, input),
    onFrontier: false,
    failedOnly: t.total > 0 && (t.outcomes.model_error ?? 0) + (t.outcomes.infra_error ?? 0) === t.total,
    beatenBy: null,
  };
}

/**
 * How much of what its runs set out to do a row covers: instances attempted against those
 * planned and the suite's size, attempts against instances x repeats, and why it falls short.
 */
function coverageOf(t: ConfigTally, input: ReportInput): Coverage {
  const reasons: string[] = [];
  const planned = new Set<string>();
  let plannedAttempts = 0;
  let suiteInstances: number | null = null;
  for (const runId of t.runIds) {
    const run = input.runs.find((r) => r.id === runId);
    if (!run) continue;
    const listed = Array.isArray(run.options.plannedInstances) ? (run.options.plannedInstances as string[]) : null;
    // Runs recorded before plans were stored: what any config of the run attempted stands in.
    const runPlan = listed ?? [...new Set(input.attempts.filter((a) => a.runId === runId).map((a) => a.instanceId))];
    for (const id of runPlan) planned.add(id);
    const repeats = typeof run.options.runs === 'number' ? run.options.runs : 1;
    plannedAttempts += runPlan.length * repeats;
    if (typeof run.options.suiteInstances === 'number') suiteInstances = Math.max(suiteInstances ?? 0, run.options.suiteInstances);
    const made = input.attempts.filter((a) => a.runId === runId && a.configName === t.experiment.configName).length;
    if (made < runPlan.length * repeats) {
      const maxCost = typeof run.options.maxCost === 'number' ? run.options.maxCost : null;
      const why = run.status === 'interrupted' ? 'interrupted'
        : run.status === 'running' ? 'still running, or killed'
          : run.status === 'failed' ? 'failed'
            : maxCost !== null ? `stopped at --max-cost ${money(maxCost)}` : 'stopped early';
      reasons.push(`run ${runId} ${why}: ${made} of ${runPlan.length * repeats} attempts`);
    }
  }
  if (suiteInstances !== null && planned.size < suiteInstances) reasons.push(`a subset: ${planned.size} of the suite's ${suiteInstances} instances`);
  return {
    instances: t.byInstance.size,
    plannedInstances: planned.size,
    suiteInstances,
    attempts: t.total,
    plannedAttempts,
    partial: reasons.length > 0,
    reasons,
  };
}

/** Drops float noise from sums of many prices (0.1 + 0.2 shows as 0.3, not 0.30000000000000004). */
function tidy(usd: number): number {
  return Number(usd.toPrecision(12));
}

/** pass@1 over every instance, pass@k over the instances with at least k = repeats attempts. */
function passRates(t: ConfigTally, k: number): Pick<ConfigSummary, 'passAt1' | 'passAtK' | 'passK' | 'passKInstances'> {
  if (k < 2) return { passAt1: null, passAtK: null, passK: null, passKInstances: null };
  let at1 = 0;
  let atK = 0;
  let covered = 0;
  for (const i of t.byInstance.values()) {
    at1 += i.resolved / i.attempts;
    if (i.attempts >= k) {
      atK += passAtK(i.attempts, i.resolved, k);
      covered++;
    }
  }
  return { passAt1: at1 / t.byInstance.size, passAtK: atK / covered, passK: k, passKInstances: covered };
}

/** Sets onFrontier and beatenBy on each config; returns the frontier, cheapest first. */
function markFrontier(configs: ConfigSummary[]): ConfigSummary[] {
  const measured = configs.filter((c) => !c.failedOnly);
  const frontier = paretoFrontier(measured, (c) => c.costPerTask, (c) => c.rate);
  const onFrontier = new Set(frontier);
  const known = measured.filter((c) => c.costPerTask !== null).map((c) => ({ c, cost: c.costPerTask!, rate: c.rate }));
  for (const p of known) {
    p.c.onFrontier = onFrontier.has(p.c);
    // Name the best of the configs that beat it, so a reader sees what to pick instead.
    const better = known.filter((q) => beats(q, p)).sort((a, b) => b.rate - a.rate || a.cost - b.cost)[0];
    p.c.beatenBy = better ? better.c.config : null;
  }
  return frontier;
}

function chooseBaseline(configs: ConfigSummary[], wanted: string | undefined): string | null {
  if (wanted === undefined) return configs[0]?.config ?? null;
  if (configs.some((c) => c.config === wanted)) return wanted;
  const named = configs.filter((c) => c.configName === wanted);
  if (named.length === 1) return named[0]!.config;
  const names = configs.map((c) => c.config);
  if (named.length > 1) {
    throw new UserError(`--baseline ${wanted}: these runs hold ${named.length} rows named ${wanted}, differing in settings or agent: ${named.map((c) => `\`${c.config}\``).join(', ')}. Pass one of them in full.`);
  }
  throw new UserError(
    `--baseline ${wanted}: no such config in these runs.${didYouMean(wanted, names)} The configs are: ${names.join(', ') || '(none)'}. Pass one of them, or leave --baseline out to use the first.`,
  );
}

function compare(base: ConfigTally, other: ConfigTally): PairwiseComparison {
  let paired = 0;
  let wins = 0;
  let losses = 0;
  let baseResolved = 0;
  let otherResolved = 0;
  for (const [instanceId, b] of base.byInstance) {
    const o = other.byInstance.get(instanceId);
    if (!o) continue;
    paired++;
    const bWon = b.first.outcome === 'resolved';
    const oWon = o.first.outcome === 'resolved';
    if (bWon) baseResolved++;
    if (oWon) otherResolved++;
    if (oWon && !bWon) wins++;
    if (bWon && !oWon) losses++;
  }
  const diff = paired > 0 ? pairedDifference(wins, losses, paired) : null;
  return {
    baseline: base.config,
    config: other.config,
    paired,
    wins,
    losses,
    ties: paired - wins - losses,
    baselineRate: paired > 0 ? baseResolved / paired : null,
    configRate: paired > 0 ? otherResolved / paired : null,
    difference: diff?.difference ?? null,
    differenceLow: diff?.low ?? null,
    differenceHigh: diff?.high ?? null,
    pValue: mcnemarExact(wins, losses),
  };
}

function buildMatrix(tallies: ConfigTally[]): Report['matrix'] {
  const instanceIds = new Set<string>();
  for (const t of tallies) for (const id of t.byInstance.keys()) instanceIds.add(id);
  const collator = new Intl.Collator('en', { numeric: true });
  const rows = [...instanceIds].sort(collator.compare).map((instanceId) => ({
    instanceId,
    cells: tallies.map((t): MatrixCell => {
      const i = t.byInstance.get(instanceId);
      if (!i) return { mark: NOT_RUN, resolved: 0, attempts: 0, outcome: null, attemptIds: [] };
      const mark = i.attempts > 1 ? `${i.resolved}/${i.attempts}` : (MARKS[i.first.outcome] ?? '?');
      // The first attempt (lowest run, then repeat) leads, as in the pairwise comparison.
      const attemptIds = [i.first.id, ...i.ids.filter((id) => id !== i.first.id)];
      return { mark, resolved: i.resolved, attempts: i.attempts, outcome: i.first.outcome, attemptIds };
    }),
  }));
  return { configs: tallies.map((t) => t.config), rows };
}

/** Caveats, one note per kind however many configs it concerns. */
function addNotes(notes: string[], input: ReportInput, configs: ConfigSummary[]): void {
  for (const run of input.runs) {
    if (run.status === 'running') notes.push(`Run ${run.id} is still running (or stopped without saying so): its figures cover the attempts recorded so far.`);
    if (run.status === 'interrupted' || run.status === 'failed') notes.push(`Run ${run.id} ${run.status === 'failed' ? 'failed' : 'was interrupted'}: its figures cover the attempts recorded before that.`);
  }
  const pooled = configs.filter((c) => c.runIds.length > 1);
  if (pooled.length > 0) notes.push(`Attempts pooled over several runs: ${pooled.map((c) => `${c.config} (${c.runIds.join(', ')})`).join('; ')}.`);
  const split = configs.filter((c) => c.differs.length > 0 || c.config !== c.configName);
  if (split.length > 0) {
    notes.push(`Runs of one config name that differ in settings, agent or submission are separate rows, named by what differs: ${split.map((c) => c.config).join('; ')}.`);
  }
  const partial = configs.filter((c) => c.coverage.partial);
  if (partial.length > 0) {
    notes.push(`Partial results, not a full run of the suite: ${partial.map((c) => `${c.config} covers ${c.coverage.instances} of ${c.coverage.suiteInstances ?? c.coverage.plannedInstances} instances (${c.coverage.reasons.join('; ')})`).join('; ')}.`);
  }
  const clustered = configs.filter((c) => c.interval === 'instances');
  if (clustered.length > 0) {
    notes.push(`With repeated attempts the rate is the mean over instances of each instance's resolved fraction, and its 95% interval counts instances, not attempts (Wilson at the design-effect sample size): ${clustered.map((c) => `${c.config} ${c.instances} instances × ${c.repeats}`).join('; ')}.`);
  }
  const unpriced = configs.filter((c) => c.costUnknown);
  if (unpriced.length > 0) {
    const list = unpriced.map((c) => `${c.config} ${c.unknownCostAttempts} of ${c.total}${c.knownCost > 0 ? ` (known part ${money(c.knownCost)})` : ''}`);
    notes.push(`Cost unknown for some attempts (no price known for the model): ${list.join('; ')}. Their cost shows as "unknown" or as a lower bound (≥), never as $0, and they are left out of the frontier.`);
  }
  const infra = configs.filter((c) => c.outcomes.infra_error > 0);
  if (infra.length > 0) {
    notes.push(`Infra errors (harness faults, not the model's) count as unresolved in the rate; "excl. infra" leaves them out: ${infra.map((c) => `${c.config} ${c.outcomes.infra_error}`).join('; ')}.`);
  }
  const tampered = input.attempts.filter((a) => a.outcome === 'tampered');
  if (tampered.length > 0) {
    notes.push(`Tampered (the test report was not the framework's own word; counted as unresolved): ${tampered.slice(0, 20).map((a) => `${a.configName} ${a.instanceId}#${a.id}${a.tamperReason ? ` (${a.tamperReason})` : ''}`).join('; ')}${tampered.length > 20 ? `; and ${tampered.length - 20} more` : ''}.`);
  }
  const flagged = input.attempts.filter((a) => (a.flags?.length ?? 0) > 0);
  if (flagged.length > 0) {
    notes.push(`Flagged patches, worth a look (\`bench show ID\`): ${flagged.slice(0, 20).map((a) => `${a.configName} ${a.instanceId}#${a.id} [${a.flags.join(', ')}]${a.outcome === 'resolved' ? ' resolved' : ''}`).join('; ')}${flagged.length > 20 ? `; and ${flagged.length - 20} more` : ''}.`);
  }
  const fewerRepeats = configs.filter((c) => c.passKInstances !== null && c.passKInstances < c.instances);
  if (fewerRepeats.length > 0) {
    notes.push(`pass@k averages only over the instances with k attempts: ${fewerRepeats.map((c) => `${c.config} ${c.passKInstances} of ${c.instances} (k=${c.passK})`).join('; ')}.`);
  }
}
