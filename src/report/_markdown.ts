import { reportSheets, type Sheet } from './_sheets.ts';
import type { Report } from './_types.ts';

/** GitHub-flavoured Markdown: one heading and table per section, notes after the summary. */
export function renderMarkdown(report: Report): string {
  const parts: string[] = ['# Benchmark report'];
  reportSheets(report).forEach((sheet, index) => {
    parts.push(markdownSheet(sheet));
    if (index === 0 && report.notes.length > 0) parts.push(['### Notes', '', ...report.notes.map((n) => `- ${escapeMarkdown(n)}`)].join('\n'));
  });
  return `${parts.join('\n\n')}\n`;
}

function markdownSheet(sheet: Sheet): string {
  const align = { left: ':---', right: '---:', center: ':---:' };
  const row = (cells: string[]) => `| ${cells.map(escapeCell).join(' | ')} |`;
  return [
    `## ${escapeMarkdown(sheet.title)}`,
    '',
    row(sheet.columns.map((c) => c.head)),
    `| ${sheet.columns.map((c) => align[c.align ?? 'left']).join(' | ')} |`,
    ...sheet.rows.map(row),
    ...(sheet.footnotes.length > 0 ? ['', ...sheet.footnotes.map(escapeMarkdown)] : []),
  ].join('\n');
}

function escapeCell(text: string): string {
  return escapeMarkdown(text).replaceAll('|', '\\|').replace(/\r?\n/g, ' ');
}

/** Keeps user-given names (configs, instances) from turning into emphasis, links or HTML. */
function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>#]/g, (ch) => `\\${ch}`);
}
