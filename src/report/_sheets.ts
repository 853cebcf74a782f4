import { MARK_LEGEND, OTHER_OUTCOMES_LEGEND, costCell, differenceCells, duration, intervalCell, outcomeCounts, pValue, percent, roleCostCell, tokens } from './_format.ts';
import type { ConfigSummary, Report } from './_types.ts';

export type Column = {
  head: string;
  /** Used instead of `head` when the table must be narrowed; a legend then names the column. */
  shortHead?: string;
  align?: 'left' | 'right' | 'center';
  /** 0 = always shown; higher numbers are dropped first when a table must be narrowed. */
  priority: number;
  /** Set on columns whose cells may be shortened (with an ellipsis) down to this width. */
  minWidth?: number;
  /** Per row, a short code for the cell (a config's letter), shown before the name once names must be cut. */
  codes?: string[];
  /** The column that tells rows apart: never cut so far that two rows read the same. */
  key?: boolean;
  /** Left out to fit, its cells are listed under the table by row name instead of being lost. */
  spill?: boolean;
};

/** A format-neutral table: the terminal, Markdown and HTML renderers all draw these. */
export type Sheet = {
  kind: 'summary' | 'pairwise' | 'frontier' | 'matrix';
  title: string;
  columns: Column[];
  rows: string[][];
  footnotes: string[];
};

export function reportSheets(report: Report): Sheet[] {
  const sheets = [summarySheet(report)];
  if (report.pairwise.length > 0) sheets.push(pairwiseSheet(report));
  if (report.configs.length > 0) sheets.push(frontierSheet(report), matrixSheet(report));
  return sheets;
}

type Field = Column & { cell: (s: ConfigSummary) => string; when?: boolean };

function summarySheet(report: Report): Sheet {
  const configs = report.configs;
  const anyInfra = configs.some((c) => c.outcomes.infra_error > 0);
  const anyRepeats = configs.some((c) => c.passK !== null);
  const ks = new Set(configs.map((c) => c.passK).filter((k) => k !== null));
  const sameK = ks.size === 1 ? [...ks][0]! : null;
  const anyCache = configs.some((c) => c.tokensCacheRead + c.tokensCacheWrite > 0);
  const anyModel = configs.some((c) => c.model !== null);
  const manyAgents = new Set(configs.map((c) => c.agent)).size > 1;
  const anyRoles = configs.some((c) => c.costByRole.length > 0);
  const candidates: Field[] = [
    { head: 'config', priority: 0, minWidth: 8, cell: (s) => s.config },
    { head: 'model', priority: 5, minWidth: 8, cell: (s) => s.model ?? '–', when: anyModel },
    { head: 'agent', priority: 4, cell: (s) => (s.submit ? `${s.agent} (${s.submit})` : s.agent), when: manyAgents },
    { head: 'resolved', align: 'right', priority: 0, cell: (s) => `${s.resolved}/${s.total}` },
    { head: 'sample', align: 'right', priority: 0, cell: sampleCell, when: anyRepeats },
    { head: 'covers', align: 'right', priority: 0, cell: coverageCell, when: report.partial },
    { head: 'rate', align: 'right', priority: 0, cell: (s) => percent(s.rate) },
    { head: '95% CI', align: 'right', priority: 1, cell: intervalCell },
    { head: 'excl. infra', align: 'right', priority: 4, cell: (s) => percent(s.rateExcludingInfra), when: anyInfra },
    { head: 'pass@1', align: 'right', priority: 4, cell: (s) => percent(s.passAt1), when: anyRepeats },
    {
      head: sameK === null ? 'pass@k' : `pass@${sameK}`, align: 'right', priority: 3, when: anyRepeats,
      cell: (s) => (s.passAtK === null ? '–' : sameK === null ? `${percent(s.passAtK)} (k=${s.passK})` : percent(s.passAtK)),
    },
    { head: '$/task', align: 'right', priority: 1, cell: (s) => costCell(s, 'perTask') },
    { head: '$/resolved', align: 'right', priority: 1, cell: (s) => costCell(s, 'perResolved') },
    { head: 'total cost', align: 'right', priority: 2, cell: (s) => costCell(s, 'total') },
    { head: 'cost by role', priority: 3, spill: true, cell: roleCostCell, when: anyRoles },
    { head: 'other outcomes', priority: 3, cell: outcomeCounts },
    { head: 'tokens in/out', align: 'right', priority: 6, cell: (s) => `${tokens(s.tokensIn)}/${tokens(s.tokensOut)}` },
    { head: 'cache r/w', align: 'right', priority: 7, cell: (s) => `${tokens(s.tokensCacheRead)}/${tokens(s.tokensCacheWrite)}`, when: anyCache },
    { head: 'time mean/p95', align: 'right', priority: 6, cell: (s) => `${duration(s.meanDurationMs)}/${duration(s.p95DurationMs)}` },
    { head: 'calls/retries', align: 'right', priority: 7, cell: (s) => `${s.calls}/${s.retries}` },
  ];
  const fields = candidates.filter((f) => f.when !== false);
  fields[0]!.codes = configs.map((c) => codeOf(report, c.config));
  const footnotes: string[] = [];
  if (configs.some((c) => outcomeCounts(c) !== '–')) footnotes.push(`Other outcomes: ${OTHER_OUTCOMES_LEGEND}.`);
  if (configs.length === 0) footnotes.push('No attempts in these runs.');
  if (configs.some((c) => c.interval === 'instances')) footnotes.push('Rows with repeats: rate and 95% CI are over instances (each instance\'s resolved fraction), not over attempts.');
  if (report.partial) footnotes.push('covers: instances attempted of the suite (or of those planned); "partial" rows did not finish what their runs set out to do, or ran a subset (see Notes).');
  return {
    kind: 'summary',
    title: `Summary: ${report.runs.length === 1 ? `run ${report.runs[0]!.id}` : `runs ${report.runs.map((r) => r.id).join(', ')}`}${report.partial ? ' (partial results)' : ''}`,
    columns: fields.map(({ cell: _cell, when: _when, ...column }) => column),
    rows: configs.map((s) => fields.map((f) => f.cell(s))),
    footnotes,
  };
}

/** `5 instances × 3`, or the counts when repeats are uneven. */
function sampleCell(s: ConfigSummary): string {
  const unit = s.instances === 1 ? 'instance' : 'instances';
  return s.total === s.instances * s.repeats ? `${s.instances} ${unit} × ${s.repeats}` : `${s.instances} ${unit}, ${s.total} attempts`;
}

/** `31/31`, or `7/31 partial` for a row that stopped short or ran a subset. */
function coverageCell(s: ConfigSummary): string {
  const of = s.coverage.suiteInstances ?? s.coverage.plannedInstances;
  return `${s.coverage.instances}/${of}${s.coverage.partial ? ' partial' : ''}`;
}

function pairwiseSheet(report: Report): Sheet {
  return {
    kind: 'pairwise',
    title: `Against ${report.baseline} (first attempt of each instance both attempted)`,
    columns: [
      { head: 'config', priority: 0, minWidth: 8, codes: report.pairwise.map((c) => codeOf(report, c.config)) },
      { head: 'paired', align: 'right', priority: 3 },
      { head: 'won', align: 'right', priority: 0 },
      { head: 'lost', align: 'right', priority: 0 },
      { head: 'tied', align: 'right', priority: 2 },
      { head: 'Δ rate', align: 'right', priority: 0 },
      { head: '95% CI', align: 'right', priority: 1 },
      { head: 'McNemar p', align: 'right', priority: 0 },
    ],
    rows: report.pairwise.map((c) => [c.config, String(c.paired), String(c.wins), String(c.losses), String(c.ties), ...differenceCells(c), pValue(c.pValue)]),
    footnotes: ['won / lost: instances this config resolved and the baseline did not / the reverse. Δ rate and its interval in percentage points.'],
  };
}

function frontierSheet(report: Report): Sheet {
  const order = [...report.configs].sort((a, b) => (a.costPerTask ?? Infinity) - (b.costPerTask ?? Infinity) || b.rate - a.rate);
  const status = (c: ConfigSummary) => (c.failedOnly ? 'left out: every attempt failed' : c.costPerTask === null ? 'cost unknown' : c.onFrontier ? 'yes' : 'no');
  return {
    kind: 'frontier',
    title: 'Cost / resolve-rate frontier',
    columns: [
      { head: 'config', priority: 0, minWidth: 8, codes: order.map((c) => codeOf(report, c.config)) },
      { head: '$/task', align: 'right', priority: 0 },
      { head: 'rate', align: 'right', priority: 0 },
      { head: 'on frontier', priority: 0 },
      { head: 'beaten by', priority: 1, minWidth: 8, codes: order.map((c) => (c.beatenBy === null ? '' : codeOf(report, c.beatenBy))) },
    ],
    rows: order.map((c) => [c.config, costCell(c, 'perTask'), percent(c.rate), status(c), c.beatenBy ?? '–']),
    footnotes: [
      'On the frontier: no other config is at least as cheap per task and at least as good, with one of the two strictly better. Beaten by: the best config that is.',
      ...(order.some((c) => c.failedOnly) ? ['Left out: every attempt ended in model_error or infra_error, so the row measures the provider or the harness, not the model.'] : []),
    ],
  };
}

function matrixSheet(report: Report): Sheet {
  return {
    kind: 'matrix',
    title: 'Per instance',
    columns: [
      { head: 'instance', priority: 0, minWidth: 12, key: true },
      ...report.matrix.configs.map((config): Column => ({ head: config, shortHead: codeOf(report, config), align: 'center', priority: 1 })),
    ],
    rows: report.matrix.rows.map((row) => [row.instanceId, ...row.cells.map((cell) => cell.mark)]),
    footnotes: [MARK_LEGEND],
  };
}

/** A config's letter, the same in every table: A for the first config, B for the second, ... */
function codeOf(report: Report, config: string): string {
  return columnCode(report.configs.findIndex((c) => c.config === config));
}

/** A, B, ..., Z, AA, AB, ... */
function columnCode(index: number): string {
  let code = '';
  for (let i = index + 1; i > 0; i = Math.floor((i - 1) / 26)) code = String.fromCharCode(65 + ((i - 1) % 26)) + code;
  return code;
}
