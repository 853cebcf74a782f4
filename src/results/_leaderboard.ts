import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import { money, percent } from '../report/index.ts';
import type { ResultsFile } from './_results-file.ts';
import { readResultsFile } from './_verify.ts';

export const LEADERBOARD_START = '<!-- leaderboard:start -->';
export const LEADERBOARD_END = '<!-- leaderboard:end -->';

/** Every results file of a folder, by file name. */
export function readLeaderboardEntries(dir: string): { name: string; file: ResultsFile }[] {
  const names = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.json')).sort() : [];
  return names.map((name) => ({ name, file: readResultsFile(join(dir, name)) }));
}

/** Replaces the text between the leaderboard markers of a Markdown file. */
export function writeLeaderboard(path: string, table: string): void {
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf(LEADERBOARD_START);
  const end = text.indexOf(LEADERBOARD_END);
  if (start < 0 || end < start) throw new UserError(`${path} has no ${LEADERBOARD_START} ... ${LEADERBOARD_END} markers. Add them where the leaderboard should go.`);
  writeFileSync(path, `${text.slice(0, start + LEADERBOARD_START.length)}\n${table}${text.slice(end)}`);
}

/** The Markdown leaderboard of contributed results, best resolve rate first. */
export function renderLeaderboard(entries: { name: string; file: ResultsFile }[]): string {
  const header = '| model | config | agent | suite | resolved | rate (95% CI) | $/task | $/resolved | date | verified |\n|---|---|---|---|---:|---|---:|---:|---|:---:|';
  if (entries.length === 0) return `${header}\n| _no results yet: add one with \`bench export\`_ | | | | | | | | | |\n`;
  const sorted = [...entries].sort((a, b) => b.file.summary.rate - a.file.summary.rate || (a.file.summary.cost_per_task ?? Infinity) - (b.file.summary.cost_per_task ?? Infinity));
  const rows = sorted.map(({ file }) => {
    const s = file.summary;
    const cost = (v: number | null) => (s.cost_unknown ? 'unknown' : v === null ? '–' : money(v));
    const verified = file.verifications.some((v) => v.matched) ? '✓' : '';
    return `| ${escape(file.config.model ?? '')} | ${escape(file.config.name)} | ${escape(file.agent.name)} | ${escape(file.suite.name)} | ${s.resolved}/${s.total} | ${percent(s.rate)} (${percent(s.rate_low)}–${percent(s.rate_high)}) | ${cost(s.cost_per_task)} | ${cost(s.cost_per_resolved)} | ${file.created_at.slice(0, 10)} | ${verified} |`;
  });
  return `${header}\n${rows.join('\n')}\n`;
}

function escape(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
