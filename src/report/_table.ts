import Table from 'cli-table3';
import { MARKS } from './_format.ts';
import { displayWidth, fitSheet, wrapText } from './_fit.ts';
import { reportSheets, type Sheet } from './_sheets.ts';
import type { Report } from './_types.ts';

type Paint = (text: string, code: number) => string;

/** Terminal tables that fit `width` columns; ANSI colour only when `color` is set. */
export function renderTable(report: Report, width: number, color: boolean): string {
  const paint: Paint = color ? (text, code) => `\x1b[${code}m${text}\x1b[${code === 1 ? 22 : 39}m` : (text) => text;
  const blocks: string[] = [];
  const named = new Set<string>();
  reportSheets(report).forEach((sheet, index) => {
    blocks.push(drawSheet(sheet, width, paint, named));
    if (index === 0 && report.notes.length > 0) {
      blocks.push([paint('Notes', 1), ...report.notes.flatMap((note) => wrapText(`- ${note}`, width, 2))].join('\n'));
    }
  });
  return `${blocks.join('\n\n')}\n`;
}

/** `named` holds the config codes an earlier table's legend already spelled out. */
function drawSheet(sheet: Sheet, width: number, paint: Paint, named: Set<string>): string {
  const fitted = fitSheet(sheet, width);
  const table = new Table({
    head: fitted.heads.map((h) => paint(h, 1)),
    colAligns: fitted.columns.map((c) => c.align ?? 'left'),
    // Empty styles keep cli-table3 from adding escapes of its own; colour is ours to add.
    style: { head: [], border: [], compact: true },
    wordWrap: false,
  });
  for (const row of fitted.rows) table.push(sheet.kind === 'matrix' ? row.map((cell) => tone(cell, paint)) : row);
  const footnotes = [...sheet.footnotes];
  sheet.columns.forEach((column, i) => {
    if (!column.spill || fitted.columns.includes(column)) return;
    for (const row of sheet.rows) if (row[i] && row[i] !== '–') footnotes.push(`${column.head}, ${row[0]}: ${row[i]}`);
  });
  if (fitted.dropped.length > 0) {
    footnotes.push(`Left out to fit ${width} columns: ${fitted.dropped.join(', ')}. Widen the terminal or use --format md, html or json.`);
  }
  const lines = [...wrapText(sheet.title, width).map((l) => paint(l, 1)), table.toString(), ...footnotes.flatMap((f) => wrapText(f, width))];
  const unnamed = fitted.legend.filter(([code]) => !named.has(code));
  if (fitted.legend.length > unnamed.length) lines.push('Letters name configs as listed above.');
  if (unnamed.length > 0) {
    const oneLine = `Configs: ${unnamed.map(([code, name]) => `${code} = ${name}`).join(', ')}.`;
    lines.push(...(displayWidth(oneLine) <= width ? [oneLine] : ['Configs:', ...unnamed.flatMap(([code, name]) => wrapText(`${code} = ${name}`, width - 2, 4).map((l) => `  ${l}`))]));
  }
  for (const [code] of fitted.legend) named.add(code);
  return lines.join('\n');
}

function tone(cell: string, paint: Paint): string {
  if (cell === MARKS.resolved) return paint(cell, 32);
  if (cell === MARKS.unresolved) return paint(cell, 31);
  if (Object.values(MARKS).includes(cell)) return paint(cell, 33);
  return cell;
}
