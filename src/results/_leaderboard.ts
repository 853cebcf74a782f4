import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import { clusteredRate, differences, money, percent, wilson } from '../report/index.ts';
import { canonicalJson, loadTaskSet, sha256 } from '../tasks/index.ts';
import { summarize } from './_export.ts';
import type { ResultsFile } from './_results-file.ts';
import { contentDigest, readResultsFile } from './_verify.ts';

export const LEADERBOARD_START = '<!-- leaderboard:start -->';
export const LEADERBOARD_END = '<!-- leaderboard:end -->';

/** Every results file of a folder, by file name. */
export function readLeaderboardEntries(dir: string): { name: string; file: ResultsFile }[] {
  const names = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.json')).sort() : [];
  return names.map((name) => ({ name, file: readResultsFile(join(dir, name)) }));
}

/**
 * The leaderboard of a folder of results files. A file's suite size comes from the local suite of
 * that name when its content hash matches (a file cannot make itself look complete), else from
 * what the file records.
 */
export async function leaderboardOf(dir: string): Promise<{ table: string; count: number }> {
  const entries = readLeaderboardEntries(dir);
  const sizes = new Map<string, number | null>();
  for (const { file } of entries) {
    const key = `${file.suite.name}\u0000${file.suite.hash}`;
    if (sizes.has(key)) continue;
    try {
      const suite = await loadTaskSet({ suite: file.suite.name });
      sizes.set(key, suite.hash === file.suite.hash ? suite.instances.length : null);
    } catch {
      sizes.set(key, null);
    }
  }
  return { table: renderLeaderboard(entries, (file) => sizes.get(`${file.suite.name}\u0000${file.suite.hash}`) ?? null), count: entries.length };
}

/** Replaces the text between the leaderboard markers of a Markdown file. */
export function writeLeaderboard(path: string, table: string): void {
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf(LEADERBOARD_START);
  const end = text.indexOf(LEADERBOARD_END);
  if (start < 0 || end < start) throw new UserError(`${path} has no ${LEADERBOARD_START} ... ${LEADERBOARD_END} markers. Add them where the leaderboard should go.`);
  writeFileSync(path, `${text.slice(0, start + LEADERBOARD_START.length)}\n${table}${text.slice(end)}`);
}

/** What the leaderboard makes of one file, from its instances, never from the summary it claims. */
export type LeaderboardRow = {
  name: string;
  file: ResultsFile;
  resolved: number;
  attempts: number;
  instances: number;
  repeats: number;
  rate: number;
  low: number;
  high: number;
  costPerTask: number | null;
  costPerResolved: number | null;
  costUnknown: boolean;
  /** The suite's size when known (the local suite of that name and hash, else the file's own claim). */
  suiteSize: number | null;
  /** Covers every instance of its suite. */
  complete: boolean;
  /** A matched verification whose digest is the file's content as it is now. */
  verified: boolean;
  /** Why the file is flagged: edited after verification, a summary that does not follow from its instances. */
  flags: string[];
  /** `key value` for what sets it apart from rows that would otherwise read the same. */
  differs: string[];
};

/**
 * Each file's row: rate, interval and cost recomputed from its instances (with repeats, over
 * instances), the ✓ only when a recorded verification's digest matches the content, coverage of
 * its suite, and what distinguishes it from look-alike rows.
 */
export function leaderboardRows(entries: { name: string; file: ResultsFile }[], suiteSize: (file: ResultsFile) => number | null = () => null): LeaderboardRow[] {
  const rows = entries.map(({ name, file }): LeaderboardRow => {
    const byInstance = new Map<string, { resolved: number; attempts: number }>();
    for (const i of file.instances) {
      const tally = byInstance.get(i.instance_id) ?? { resolved: 0, attempts: 0 };
      tally.attempts++;
      if (i.resolved) tally.resolved++;
      byInstance.set(i.instance_id, tally);
    }
    const attempts = file.instances.length;
    const resolved = file.instances.filter((i) => i.resolved).length;
    const repeats = Math.max(0, ...[...byInstance.values()].map((t) => t.attempts));
    const interval = repeats > 1 ? clusteredRate([...byInstance.values()]) : { rate: attempts ? resolved / attempts : 0, ...wilson(resolved, attempts) };
    const costUnknown = file.instances.some((i) => i.cost_usd === null);
    const cost = file.instances.reduce((sum, i) => sum + (i.cost_usd ?? 0), 0);
    const size = suiteSize(file) ?? file.suite.total_instances ?? null;
    const digest = contentDigest(file);
    const verifications = file.verifications.filter((v) => v.matched);
    const verified = verifications.some((v) => v.digest === digest);
    const flags: string[] = [];
    if (verifications.length > 0 && !verified) flags.push('changed since verified');
    if (JSON.stringify(summarize(file.instances)) !== JSON.stringify(file.summary)) flags.push('summary does not match its instances');
    return {
      name, file, resolved, attempts, instances: byInstance.size, repeats, rate: interval.rate, low: interval.low, high: interval.high,
      costPerTask: costUnknown || attempts === 0 ? null : cost / attempts, costPerResolved: costUnknown || resolved === 0 ? null : cost / resolved, costUnknown,
      suiteSize: size, complete: size !== null && byInstance.size >= size, verified, flags, differs: [],
    };
  });
  // Rows that would read alike (same model, config and agent) are told apart by what differs.
  const groups = new Map<string, LeaderboardRow[]>();
  for (const row of rows) {
    const key = [row.file.config.model ?? '', row.file.config.name, row.file.agent.name, row.file.suite.name].join('\u0000');
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const differs = differences(group.map((r) => ({ agent: r.file.agent.name, submit: submitOf(r.file), settings: r.file.config.settings, agentSettings: r.file.agent.settings })));
    group.forEach((row, i) => {
      row.differs = differs[i]!.length > 0 ? differs[i]! : [`run ${row.file.run_id}`];
    });
  }
  return rows;
}

function submitOf(file: ResultsFile): string | null {
  return typeof file.agent.settings.submit === 'string' ? file.agent.settings.submit : null;
}

const HEADER = '| model | config | agent | settings | suite | resolved | rate (95% CI) | $/task | $/resolved | date | verified |\n|---|---|---|---|---|---:|---|---:|---:|---|:---:|';

/**
 * The Markdown leaderboard: files covering their whole suite ranked by recomputed rate; files
 * that cover part of it listed apart, unranked, with their coverage.
 */
export function renderLeaderboard(entries: { name: string; file: ResultsFile }[], suiteSize?: (file: ResultsFile) => number | null): string {
  if (entries.length === 0) return `${HEADER}\n| _no results yet: add one with \`bench export\`_ | | | | | | | | | | |\n`;
  const rows = leaderboardRows(entries, suiteSize);
  const order = (a: LeaderboardRow, b: LeaderboardRow) => b.rate - a.rate || (a.costPerTask ?? Infinity) - (b.costPerTask ?? Infinity);
  const ranked = rows.filter((r) => r.complete).sort(order);
  const partial = rows.filter((r) => !r.complete).sort(order);
  const parts = [`${HEADER}\n${ranked.map(line).join('\n')}${ranked.length === 0 ? '| _no result covers its whole suite yet_ | | | | | | | | | | |' : ''}`];
  if (partial.length > 0) {
    parts.push(`Not ranked, they do not cover their whole suite:\n\n${HEADER}\n${partial.map(line).join('\n')}`);
  }
  const flagged = rows.filter((r) => r.flags.length > 0);
  if (flagged.length > 0) parts.push(`Flagged: ${flagged.map((r) => `${escape(r.name)} (${r.flags.join('; ')})`).join('; ')}. Rates and costs above are recomputed from each file's instances.`);
  return `${parts.join('\n\n')}\n`;
}

function line(row: LeaderboardRow): string {
  const cost = (v: number | null) => (row.costUnknown ? 'unknown' : v === null ? '–' : money(v));
  const submit = submitOf(row.file);
  const agent = submit ? `${row.file.agent.name} (${submit})` : row.file.agent.name;
  const settings = [`#${sha256(canonicalJson(row.file.config.settings)).slice(0, 8)}`, ...row.differs].join('; ');
  const sample = row.repeats > 1 ? ` (${row.instances} × ${row.repeats})` : '';
  const coverage = row.complete ? '' : ` of ${row.suiteSize ?? '?'} instances`;
  const resolved = row.repeats > 1 || !row.complete ? `${row.resolved}/${row.attempts}${sample}${row.complete ? '' : `, ${row.instances}${coverage}`}` : `${row.resolved}/${row.attempts}`;
  const verified = row.verified ? '✓' : row.flags.includes('changed since verified') ? '✗ changed since verified' : '';
  return `| ${escape(row.file.config.model ?? '')} | ${escape(row.file.config.name)} | ${escape(agent)} | ${escape(settings)} | ${escape(row.file.suite.name)} | ${resolved} | ${percent(row.rate)} (${percent(row.low)}–${percent(row.high)}) | ${cost(row.costPerTask)} | ${cost(row.costPerResolved)} | ${row.file.created_at.slice(0, 10)} | ${verified} |`;
}

function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
