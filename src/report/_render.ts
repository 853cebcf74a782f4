import { renderCsv } from './_csv.ts';
import { renderHtml } from './_html.ts';
import { renderMarkdown } from './_markdown.ts';
import { renderTable } from './_table.ts';
import type { Report, ReportFormat } from './_types.ts';

const DEFAULT_WIDTH = 100;
/** Below this no table of ours can be drawn legibly; narrower requests get this width. */
const MIN_WIDTH = 50;

/** Renders a report; `table` fits `width` (default: the terminal's, else 100) and colours only when asked. */
export function renderReport(report: Report, format: ReportFormat, options: { width?: number; color?: boolean } = {}): string {
  switch (format) {
    case 'table':
      return renderTable(report, Math.max(MIN_WIDTH, options.width ?? (process.stdout.columns || DEFAULT_WIDTH)), options.color ?? false);
    case 'md':
      return renderMarkdown(report);
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'csv':
      return renderCsv(report);
    case 'html':
      return renderHtml(report);
    default:
      throw new RangeError(`Unknown report format: ${String(format satisfies never)}`);
  }
}
