/** One edit a model asked for: an Aider search/replace block, or a unified diff. */
export type Edit =
  | { kind: 'replace'; path: string; search: string; replace: string }
  | { kind: 'diff'; diff: string };

export type ParsedAnswer = {
  edits: Edit[];
  /** Blocks that were started but cannot be used (no file name, no divider, no end marker). */
  broken: string[];
};

const SEARCH = /^\s*<{5,9}\s*SEARCH\b/;
const DIVIDER = /^\s*={5,9}\s*$/;
const REPLACE = /^\s*>{5,9}\s*REPLACE\b/;
const FENCE_LINE = /^\s*(`{3,}|~{3,})/;
const BARE_FENCE = /^(`{3,}|~{3,})[\w+-]*$/;
const DIFF_FENCE = /^(`{3,})[ \t]*(?:diff|patch|udiff)\b[^\n]*\n([\s\S]*?)^\1[ \t]*$/gm;

/** Every edit in an answer, whichever format it uses (search/replace blocks and ```diff fences both count). */
export function parseAnswer(text: string): ParsedAnswer {
  const normalised = text.replace(/\r\n/g, '\n');
  const edits: Edit[] = [];
  const broken: string[] = [];
  for (const match of normalised.matchAll(DIFF_FENCE)) {
    const body = match[2]!;
    // A search/replace block inside a ```diff fence is still a search/replace block.
    if (!body.split('\n').some((line) => SEARCH.test(line)) && body.trim()) edits.push({ kind: 'diff', diff: withTrailingNewline(body) });
  }
  parseReplaceBlocks(normalised, edits, broken);
  if (edits.length === 0 && broken.length === 0) {
    const bare = bareDiff(normalised);
    if (bare) edits.push({ kind: 'diff', diff: bare });
  }
  return { edits, broken };
}

function parseReplaceBlocks(text: string, edits: Edit[], broken: string[]): void {
  const lines = text.split('\n');
  let lastPath: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    if (!SEARCH.test(lines[i]!)) continue;
    const path = pathBefore(lines, i) ?? lastPath;
    const divider = indexFrom(lines, i + 1, (line) => DIVIDER.test(line), (line) => SEARCH.test(line));
    const end = divider < 0 ? -1 : indexFrom(lines, divider + 1, (line) => REPLACE.test(line), (line) => SEARCH.test(line));
    if (divider < 0 || end < 0) {
      broken.push(`a SEARCH block${path ? ` for ${path}` : ''} has no ${divider < 0 ? '=======' : '>>>>>>> REPLACE'} line`);
      continue;
    }
    if (!path) {
      broken.push('a SEARCH block has no file path on the line before it');
      i = end;
      continue;
    }
    edits.push({ kind: 'replace', path, search: lines.slice(i + 1, divider).join('\n'), replace: lines.slice(divider + 1, end).join('\n') });
    lastPath = path;
    i = end;
  }
}

/** Index of the first line from `start` matching `want`, or -1 when `stop` matches first. */
function indexFrom(lines: string[], start: number, want: (line: string) => boolean, stop: (line: string) => boolean): number {
  for (let j = start; j < lines.length; j++) {
    if (want(lines[j]!)) return j;
    if (stop(lines[j]!)) return -1;
  }
  return -1;
}

/** The file name Aider puts just above a block (or above its opening fence), cleaned of markdown. */
function pathBefore(lines: string[], index: number): string | undefined {
  for (let j = index - 1; j >= Math.max(0, index - 3); j--) {
    const line = lines[j]!.trim();
    if (!line || BARE_FENCE.test(line)) continue;
    if (REPLACE.test(line)) return undefined;
    const cleaned = line.replace(FENCE_LINE, '').replace(/^#+\s*/, '').replace(/^(?:file(?:name)?|path)\s*:\s*/i, '')
      .replace(/^[*_`'"]+|[*_`'":]+$/g, '').trim();
    if (cleaned && !/\s/.test(cleaned)) return cleaned;
    // A sentence such as "In `src/app.py`:" names the file in backticks, or as its one word with an extension.
    const quoted = /`([^`\s]+)`/.exec(line)?.[1];
    const named = line.split(/\s+/).map((word) => word.replace(/^[*_`'"(]+|[*_`'":,.)]+$/g, '')).filter((word) => /^[\w./-]+\.\w+$/.test(word));
    return quoted ?? (named.length === 1 ? named[0] : undefined);
  }
  return undefined;
}

/** A diff written without a fence: from its first header to the end of the answer. */
function bareDiff(text: string): string | undefined {
  const start = text.search(/^(diff --git |--- \S)/m);
  if (start < 0) return undefined;
  const rest = text.slice(start);
  if (!/^\+\+\+ \S/m.test(rest) || !/^@@ /m.test(rest)) return undefined;
  return withTrailingNewline(rest);
}

function withTrailingNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** The paths a unified diff touches, as written (a/ b/ prefixes removed, /dev/null left out). */
export function diffPaths(diff: string): string[] {
  const paths = new Set<string>();
  const lines = diff.split('\n');
  lines.forEach((line, i) => {
    const git = /^diff --git (\S+) (\S+)/.exec(line);
    const moved = /^(?:rename|copy) (?:from|to) (.+)$/.exec(line);
    const named = git ? [git[1]!, git[2]!] : moved ? [moved[1]!] : headerPair(lines, i) ?? [];
    for (const path of named) if (path !== '/dev/null') paths.add(stripPrefix(path));
  });
  return [...paths];
}

/** The old and new paths when line i opens a `---` / `+++` header pair (a lone `---` may be a removed line). */
function headerPair(lines: string[], i: number): [string, string] | undefined {
  const old = /^--- (.+?)(?:\t.*)?$/.exec(lines[i]!);
  const next = /^\+\+\+ (.+?)(?:\t.*)?$/.exec(lines[i + 1] ?? '');
  return old && next ? [old[1]!.trim(), next[1]!.trim()] : undefined;
}

function stripPrefix(path: string): string {
  const unquoted = path.replace(/^"(.*)"$/, '$1');
  return /^[ab]\//.test(unquoted) ? unquoted.slice(2) : unquoted;
}

/** Adds the a/ and b/ prefixes a model often leaves out, so `-p1` tools read the paths right. */
export function withPrefixes(diff: string): string {
  const lines = diff.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const pair = headerPair(lines, i);
    if (!pair) continue;
    const fix = (marker: string, path: string, prefix: string) =>
      path === '/dev/null' || /^[ab]\//.test(path) ? `${marker} ${path}` : `${marker} ${prefix}/${path.replace(/^\.\//, '')}`;
    lines[i] = fix('---', pair[0], 'a');
    lines[i + 1] = fix('+++', pair[1], 'b');
    i++;
  }
  return lines.join('\n');
}
