import type { ResultsFile } from './_results-file.ts';
import { money, percent } from './_format.ts';

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
