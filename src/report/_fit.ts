import type { Column, Sheet } from './_sheets.ts';

/** Widest a shortenable column grows while the table is too wide. */
const SOFT_CAP = 28;
/** Columns of this priority or more go before any name is cut below SOFT_CAP. */
const MINOR = 3;

/** A sheet narrowed to a width: the columns kept, their heads and cells cut to fit, and what was changed. */
export type FittedSheet = {
  columns: Column[];
  heads: string[];
  rows: string[][];
  /** Codes shown in place of (or before) names, with the names they stand for. */
  legend: [code: string, name: string][];
  /** Heads of the columns left out (short heads when those were in use). */
  dropped: string[];
};

/**
 * Narrows a sheet to `width` terminal columns as a bordered table draws it (1-space padding each
 * side, one border between columns): long names capped, short heads, minor columns dropped,
 * names cut further, then the remaining droppable columns, least important first.
 */
export function fitSheet(sheet: Sheet, width: number): FittedSheet {
  const cols = sheet.columns;
  const natural = (i: number, head: string) => Math.max(displayWidth(head), ...sheet.rows.map((r) => displayWidth(r[i] ?? '')));
  let heads = cols.map((c) => c.head);
  let full = heads.map((h, i) => natural(i, h));
  const widths = [...full];
  let kept = cols.map((_, i) => i);
  const total = () => kept.reduce((sum, i) => sum + widths[i]! + 3, 1);
  const shrinkable = () => kept.filter((i) => cols[i]!.minWidth !== undefined);
  // Key columns without codes (instance ids) are never cut so far that two rows read the same.
  const minWidths = cols.map((c, i) => (c.minWidth === undefined || !c.key || c.codes ? c.minWidth : distinctWidth(sheet.rows.map((r) => r[i] ?? ''), c.minWidth, full[i]!)));
  const dropWhileTooWide = (minPriority: number) => {
    while (total() > width) {
      const droppable = kept.filter((i) => cols[i]!.priority >= minPriority && cols[i]!.priority > 0);
      if (droppable.length === 0) return;
      // The least important column goes first; among equals, the rightmost.
      const victim = droppable.reduce((a, b) => (cols[b]!.priority >= cols[a]!.priority ? b : a));
      kept = kept.filter((i) => i !== victim);
    }
  };

  if (total() > width) for (const i of shrinkable()) widths[i] = Math.min(widths[i]!, Math.max(SOFT_CAP, minWidths[i]!));
  const shortened = total() > width && cols.some((c) => c.shortHead !== undefined);
  if (shortened) {
    heads = cols.map((c) => c.shortHead ?? c.head);
    full = heads.map((h, i) => natural(i, h));
    cols.forEach((c, i) => { if (c.shortHead !== undefined) widths[i] = full[i]!; });
  }
  dropWhileTooWide(MINOR);
  for (const i of shrinkable().sort((a, b) => widths[b]! - widths[a]!)) {
    const excess = total() - width;
    if (excess > 0) widths[i] = Math.max(minWidths[i]!, widths[i]! - excess);
  }
  dropWhileTooWide(1);
  // Dropping may have freed more room than cutting needed: give it back to the cut names.
  for (const i of shrinkable()) widths[i] = Math.min(full[i]!, widths[i]! + Math.max(0, width - total()));

  const keptSet = new Set(kept);
  const legend: [string, string][] = shortened ? cols.filter((c) => c.shortHead !== undefined).map((c) => [c.shortHead!, c.head]) : [];
  const cells = kept.map((i) => {
    const column = sheet.rows.map((row) => row[i] ?? '');
    const codes = cols[i]!.codes;
    return codes ? codedColumn(column, widths[i]!, codes, legend) : cutColumn(column, widths[i]!);
  });
  return {
    columns: kept.map((i) => cols[i]!),
    heads: kept.map((i) => cutColumn([heads[i]!], widths[i]!)[0]!),
    rows: sheet.rows.map((_, r) => cells.map((column) => column[r]!)),
    legend,
    dropped: cols.filter((_, i) => !keptSet.has(i)).map((c) => (shortened ? c.shortHead ?? c.head : c.head)),
  };
}

/** Cuts a column's cells to width, choosing where to cut so the cells stay as distinct as they can. */
function cutColumn(cells: string[], width: number): string[] {
  if (cells.every((cell) => displayWidth(cell) <= width)) return cells;
  const distinct = new Set(cells).size;
  const budget = Math.max(0, width - 1);
  let best: string[] = [];
  let bestCount = -1;
  // Balanced cuts first, then ones keeping more of the head or of the tail.
  for (let step = 0; step <= budget; step++) {
    for (const head of step === 0 ? [Math.ceil(budget / 2)] : [Math.ceil(budget / 2) + step, Math.ceil(budget / 2) - step]) {
      if (head < 0 || head > budget) continue;
      const cut = cells.map((cell) => truncateAt(cell, width, head));
      const count = new Set(cut).size;
      if (count > bestCount) [best, bestCount] = [cut, count];
      if (count === distinct) return cut;
    }
  }
  return best;
}

/** Cells of a column whose rows carry codes: once any name must be cut, every name is led by its code. */
function codedColumn(cells: string[], width: number, codes: string[], legend: [string, string][]): string[] {
  if (cells.every((cell) => displayWidth(cell) <= width)) return cells;
  return cells.map((cell, r) => {
    const code = codes[r];
    if (!code) return truncateMiddle(cell, width);
    if (!legend.some(([known]) => known === code)) legend.push([code, cell]);
    return `${code} ${truncateMiddle(cell, Math.max(1, width - displayWidth(code) - 1))}`;
  });
}

/** The narrowest width from `min` up to `max` at which cut cells stay as distinct as the originals. */
function distinctWidth(cells: string[], min: number, max: number): number {
  const distinct = new Set(cells).size;
  const ok = (width: number) => new Set(cutColumn(cells, width)).size === distinct;
  if (min >= max || ok(min)) return Math.min(min, max);
  let [low, high] = [min, max];
  while (high - low > 1) {
    const mid = Math.floor((low + high) / 2);
    if (ok(mid)) high = mid;
    else low = mid;
  }
  return high;
}

/** Terminal columns a string takes: wide East Asian characters and emoji take two, combining marks none. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += charWidth(ch.codePointAt(0)!);
  return width;
}

/** Cuts the middle out, since both ends of ids (`django__django-11099`) tell instances apart. */
export function truncateMiddle(text: string, width: number): string {
  return truncateAt(text, width, Math.ceil((width - 1) / 2));
}

/** Keeps about `headBudget` columns of the start and fills the rest of `width` with the end. */
function truncateAt(text: string, width: number, headBudget: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 1) return '…'.slice(0, width);
  const chars = [...text];
  let head = '';
  let used = 0;
  for (const ch of chars) {
    const w = charWidth(ch.codePointAt(0)!);
    if (used + w > Math.min(headBudget, width - 1)) break;
    head += ch;
    used += w;
  }
  const tailBudget = width - 1 - used;
  let tail = '';
  for (let i = chars.length - 1, usedTail = 0; i >= 0; i--) {
    const w = charWidth(chars[i]!.codePointAt(0)!);
    if (usedTail + w > tailBudget) break;
    tail = chars[i]! + tail;
    usedTail += w;
  }
  return `${head}…${tail}`;
}

/** Word-wraps prose to a width, indenting continuation lines by `indent` spaces. */
export function wrapText(text: string, width: number, indent = 0): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const candidate = line === '' ? word : `${line} ${word}`;
    const limit = lines.length === 0 ? width : width - indent;
    if (displayWidth(candidate) <= limit || line === '') {
      line = candidate;
    } else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== '') lines.push(line);
  // A single word longer than the width is cut rather than overflow.
  return lines.map((l, i) => (i === 0 ? truncateMiddle(l, width) : ' '.repeat(indent) + truncateMiddle(l, width - indent)));
}

function charWidth(cp: number): number {
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0;
  const wide =
    (cp >= 0x1100 && cp <= 0x115f) || (cp >= 0x2e80 && cp <= 0xa4cf) || (cp >= 0xac00 && cp <= 0xd7a3) || (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xff60) || (cp >= 0xffe0 && cp <= 0xffe6) || (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd);
  return wide ? 2 : 1;
}
