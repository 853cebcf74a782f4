import { codeNames, tokenize, type RepoFile } from './_rank.ts';

/** Lines shown on each side of a line that matters. */
const CONTEXT_LINES = 20;
const DEFINITION = /^\s*(?:export\s+)?(?:async\s+)?(?:def|class|function\*?|fn|func|const|let|var|public|private|protected|static)\b/;

export type FileWindow = { start: number; end: number };

/**
 * The parts of a file too big to show whole: windows around its lines that matter most for the
 * issue (a definition of a name the issue uses in code first, then lines with the most issue
 * words), merged where they meet, added best first while `budgetChars` lasts. Lines are 1-based.
 */
export function fileWindows(file: RepoFile, problemStatement: string, budgetChars: number): FileWindow[] {
  const lines = file.content.split('\n');
  const terms = new Set(tokenize(problemStatement));
  const names = [...codeNames(problemStatement)];
  const scored: { line: number; score: number }[] = [];
  lines.forEach((text, index) => {
    let score = 0;
    for (const token of tokenize(text)) if (terms.has(token)) score += 1;
    const defined = DEFINITION.test(text) && names.some((name) => new RegExp(`\\b${name.replace(/[$]/g, '\\$')}\\b`).test(text));
    if (defined) score += 10;
    if (score > 0) scored.push({ line: index + 1, score });
  });
  scored.sort((a, b) => b.score - a.score || a.line - b.line);

  const chosen: FileWindow[] = [];
  const cost = (window: FileWindow) => lines.slice(window.start - 1, window.end).join('\n').length + 80;
  let used = 0;
  for (const { line } of scored) {
    if (chosen.some((w) => line >= w.start && line <= w.end)) continue;
    const window = { start: Math.max(1, line - CONTEXT_LINES), end: Math.min(lines.length, line + CONTEXT_LINES) };
    const merged = merge([...chosen, window]);
    const total = merged.reduce((sum, w) => sum + cost(w), 0);
    if (total > budgetChars) {
      if (used === 0) continue;
      break;
    }
    chosen.splice(0, chosen.length, ...merged);
    used = total;
  }
  return chosen;
}

function merge(windows: FileWindow[]): FileWindow[] {
  const sorted = [...windows].sort((a, b) => a.start - b.start);
  const merged: FileWindow[] = [];
  for (const window of sorted) {
    const last = merged.at(-1);
    if (last && window.start <= last.end + 1) last.end = Math.max(last.end, window.end);
    else merged.push({ ...window });
  }
  return merged;
}

/** The windows of a file as the prompt shows them: each in its own fence, with its line range. */
export function renderWindows(file: RepoFile, windows: FileWindow[], fence: string): string {
  const lines = file.content.split('\n');
  const parts = windows.map((w) => `${file.path} lines ${w.start}-${w.end} of ${lines.length}\n${fence}\n${lines.slice(w.start - 1, w.end).join('\n')}\n${fence}\n`);
  return `${parts.join('')}(${file.path} is too long to show whole: only these excerpts, copied exactly, can be edited by search/replace)\n`;
}
