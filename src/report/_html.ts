import type { Outcome } from '../store/index.ts';
import { MARKS, escapeHtml } from './_format.ts';
import { plotSvg, type PlotOptions } from './_plot.ts';
import { reportSheets, type Sheet } from './_sheets.ts';
import type { Report } from './_types.ts';

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; color: #1a202c; margin: 2rem auto; max-width: 1100px; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
div.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #cbd5e0; padding: .2rem .5rem; white-space: nowrap; }
th { background: #edf2f7; text-align: left; }
td.right { text-align: right; font-variant-numeric: tabular-nums; } td.center { text-align: center; }
td.resolved { color: #2f855a; font-weight: 600; } td.unresolved { color: #c53030; } td.other { color: #b7791f; }
.footnote, figcaption { color: #4a5568; font-size: .9em; }
figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; }
p.partial { background: #fffbea; border-left: 4px solid #b7791f; padding: .4rem .7rem; }
`;

/**
 * A self-contained page: nothing is fetched (the policy allows inline styles, images as data
 * URLs and, only when the page brings one, its inline script).
 */
export function htmlPage(page: { title: string; style: string; body: string; script?: string }): string {
  const scripts = page.script === undefined ? '' : " script-src 'unsafe-inline';";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline';${scripts} img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<style>${page.style}</style>
</head>
<body>
${page.body}${page.script === undefined ? '' : `\n<script>${page.script}</script>`}
</body>
</html>
`;
}

/** One self-contained page: the plot as inline SVG, then every table. */
export function renderHtml(report: Report): string {
  return htmlPage({
    title: `Benchmark report: ${report.runs.map((r) => r.id).join(', ')}`,
    style: STYLE,
    body: `<h1>Benchmark report</h1>\n${comparisonHtml(report)}`,
  });
}

export const REPORT_STYLE = STYLE;

/**
 * The comparison: runs, plot, notes and tables. With `links`, matrix cells link to `#attempt-ID`
 * and plot points to `#config=NAME`, for a page that holds the attempts too.
 */
export function comparisonHtml(report: Report, options: { links?: boolean } = {}): string {
  const runs = report.runs.map((r) => `${r.id} (${r.status}, ${r.createdAt})`).join('; ');
  const sections = reportSheets(report).map((sheet, index) => {
    const notes = index === 0 && report.notes.length > 0
      ? `\n<section id="notes"><h2>Notes</h2><ul>${report.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul></section>`
      : '';
    const link = options.links && sheet.kind === 'matrix'
      ? (row: number, column: number) => {
        const id = report.matrix.rows[row]?.cells[column - 1]?.attemptIds[0];
        return column > 0 && id !== undefined ? `#attempt-${id}` : null;
      }
      : undefined;
    return htmlSheet(sheet, link) + notes;
  });
  const plot = plotFigure(report, options.links ? { href: (config) => `#config=${encodeURIComponent(config)}` } : {});
  return `<p>Runs: ${escapeHtml(runs)}</p>
${report.partial ? '<p class="partial"><strong>Partial results:</strong> some rows cover only part of what their runs set out to do, or a subset of the suite (see Notes).</p>\n' : ''}${plot}
${sections.join('\n')}`;
}

export function plotFigure(report: Report, options: PlotOptions = {}): string {
  const plotted = report.configs.filter((c) => c.costPerTask !== null);
  const leftOut = report.frontierLeftOut;
  const missing = leftOut.length > 0 ? ` Not plotted, cost unknown: ${leftOut.join(', ')}.` : '';
  if (report.configs.length === 0) return '<figure id="plot"><figcaption>No attempts in these runs, so there is nothing to plot.</figcaption></figure>';
  if (plotted.length === 0) {
    return `<figure id="plot"><figcaption>No config has a known cost per task, so there is no cost plot.${escapeHtml(missing)}</figcaption></figure>`;
  }
  // Every config free (the gold and empty baselines, a local model): cost cannot tell them apart.
  if (plotted.every((c) => c.costPerTask === 0)) {
    const rates = plotted.map((c) => `${c.config} ${(c.rate * 100).toFixed(1)}%`).join(', ');
    return `<figure id="plot"><figcaption>${escapeHtml(`Every config cost $0 per task (${rates}), so a cost / resolve-rate plot would say nothing; compare the rates in the tables below.${missing}`)}</figcaption></figure>`;
  }
  const caption = `Resolve rate against cost per task; bars are 95% intervals, the dashed line joins the cost / resolve-rate frontier (${report.frontier.join(', ')}).${missing}`;
  return `<figure id="plot">\n${plotSvg(report, options)}\n<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

function htmlSheet(sheet: Sheet, link?: (row: number, column: number) => string | null): string {
  const head = sheet.columns.map((c) => `<th>${escapeHtml(c.head)}</th>`).join('');
  const body = sheet.rows
    .map((row, r) => `<tr>${row.map((cell, i) => {
      const href = link?.(r, i);
      const text = escapeHtml(cell);
      return `<td${cellClass(sheet, i, cell)}>${href ? `<a href="${escapeHtml(href)}">${text}</a>` : text}</td>`;
    }).join('')}</tr>`)
    .join('\n');
  const footnotes = sheet.footnotes.map((f) => `<p class="footnote">${escapeHtml(f)}</p>`).join('\n');
  return `<section id="${sheet.kind}">
<h2>${escapeHtml(sheet.title)}</h2>
<div class="scroll"><table class="${sheet.kind}">
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody>
</table></div>
${footnotes}
</section>`;
}

const MARK_CLASS = new Map<string, string>(
  (Object.entries(MARKS) as [Outcome, string][]).map(([outcome, mark]) => [mark, outcome === 'resolved' || outcome === 'unresolved' ? outcome : 'other']),
);

function cellClass(sheet: Sheet, index: number, cell: string): string {
  const classes: string[] = [];
  const align = sheet.columns[index]?.align ?? 'left';
  if (align !== 'left') classes.push(align);
  if (sheet.kind === 'matrix' && MARK_CLASS.has(cell)) classes.push(MARK_CLASS.get(cell)!);
  return classes.length === 0 ? '' : ` class="${classes.join(' ')}"`;
}
