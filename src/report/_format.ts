import type { Outcome } from '../store/index.ts';
import type { ConfigSummary, PairwiseComparison } from './_types.ts';

/** One character per outcome, for the per-instance matrix. */
export const MARKS: Record<Outcome, string> = {
  resolved: '✓',
  unresolved: '✗',
  patch_failed: 'P',
  timeout: 'T',
  malformed: 'M',
  model_error: 'E',
  infra_error: 'I',
  empty_patch: '∅',
  tampered: '!',
};
export const NOT_RUN = '·';

export const OTHER_OUTCOMES_LEGEND = Object.entries(MARKS).filter(([outcome]) => outcome !== 'resolved').map(([outcome, mark]) => `${mark} ${outcome}`).join(', ');

export const MARK_LEGEND = `${Object.entries(MARKS).map(([outcome, mark]) => `${mark} ${outcome}`).join(', ')}, ${NOT_RUN} not run; n/m = resolved of m attempts.`;

export function percent(x: number | null, digits = 1): string {
  return x === null ? '–' : `${(x * 100).toFixed(digits)}%`;
}

/** The 95% interval of a rate, in percent: `65.8–73.9`. */
export function intervalCell(s: Pick<ConfigSummary, 'rateLow' | 'rateHigh'>): string {
  return `${(s.rateLow * 100).toFixed(1)}–${(s.rateHigh * 100).toFixed(1)}`;
}

export function money(usd: number): string {
  if (usd === 0) return '$0.00';
  if (usd >= 100) return `$${Math.round(usd).toLocaleString('en-US')}`;
  if (usd >= 1) return `$${usd.toFixed(2)}`;
  // Two significant digits at least, so a cheap model never rounds to $0.00.
  const decimals = Math.min(8, Math.max(3, 1 - Math.floor(Math.log10(usd))));
  return `$${usd.toFixed(decimals)}`;
}

/** A cost figure that says "unknown" or "≥ $x" instead of ever showing an unknown cost as $0. */
export function costCell(s: ConfigSummary, figure: 'total' | 'perTask' | 'perResolved'): string {
  const denominator = figure === 'total' ? 1 : figure === 'perTask' ? s.total : s.resolved;
  if (denominator === 0) return '–';
  if (!s.costUnknown) return money(s.knownCost / denominator);
  if (s.knownCost === 0) return 'unknown';
  const bound = `≥ ${money(s.knownCost / denominator)}`;
  return figure === 'total' ? `${bound} (${s.unknownCostAttempts} unknown)` : bound;
}

/** `explorer gpt3 $0.0012 · writer high-creativity $0.015`; an unknown part as `≥ $x` or `unknown`, never $0. */
export function roleCostCell(s: Pick<ConfigSummary, 'costByRole'>): string {
  if (s.costByRole.length === 0) return '–';
  return s.costByRole.map((r) => `${r.role} ${r.config} ${!r.costUnknown ? money(r.knownCost) : r.knownCost === 0 ? 'unknown' : `≥ ${money(r.knownCost)}`}`).join(' · ');
}

export function tokens(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1e6) return `${(n / 1e3).toFixed(1)}k`;
  if (n < 1e9) return `${(n / 1e6).toFixed(1)}M`;
  return `${(n / 1e9).toFixed(1)}B`;
}

export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

/** Non-resolved outcome counts in one short cell, e.g. `✗40 P3 T1`. */
export function outcomeCounts(s: ConfigSummary): string {
  const parts = (Object.keys(MARKS) as Outcome[]).filter((o) => o !== 'resolved' && s.outcomes[o] > 0).map((o) => `${MARKS[o]}${s.outcomes[o]}`);
  return parts.length > 0 ? parts.join(' ') : '–';
}

export function pValue(p: number): string {
  return p < 0.001 ? '<0.001' : p.toFixed(3);
}

function points(x: number): string {
  const value = (x * 100).toFixed(1);
  return x > 0 ? `+${value}` : x < 0 ? value.replace('-', '−') : '0.0';
}

/** Paired difference and its interval in percentage points, e.g. `+4.0` and `−1.2 to +9.2`. */
export function differenceCells(c: PairwiseComparison): [string, string] {
  if (c.difference === null || c.differenceLow === null || c.differenceHigh === null) return ['–', '–'];
  return [points(c.difference), `${points(c.differenceLow)} to ${points(c.differenceHigh)}`];
}

/**
 * RFC 4180 field: quoted when it holds a comma, quote or line break. A cell a spreadsheet would
 * run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading
 * `'`, as OWASP advises; plain numbers such as `-0.5` are left as they are.
 */
export function csvField(value: string): string {
  const inert = /^[=+\-@\t\r]/.test(value) && !/^[+-]?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(inert) ? `"${inert.replaceAll('"', '""')}"` : inert;
}

export function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}
