import type { ParsedLog, ParseOptions, TestStatus } from './_parse-types.ts';
import { emptyLog, recordTest, relativePath, testId } from './_parse-shared.ts';

/** An open subtest: announced by `# Subtest: name` (node) or opened by `ok N - name {` (TAP 14 buffered). */
type Frame = { indent: number; name: string; block: number; hasChildren: boolean; buffered: boolean };

type Point = {
  ancestors: string[];
  name: string;
  status: TestStatus;
  leaf: boolean;
  topLevel: boolean;
  /** Index of the top-level test this point belongs to; node reports one file's tests together. */
  block: number;
  /** node's `location:` (the test's file:line:col), printed for failing tests only. */
  location?: string;
};

const TEST_POINT = /^(not ok|ok)\b(?:\s+\d+)?(?:\s+-(?=\s|$))?\s*(.*)$/;
const SUBTEST = /^# Subtest:\s?(.*)$/;

/**
 * TAP, flat or nested. Nesting is taken from `# Subtest:` announcements (node, node-tap) and from
 * buffered `{ ... }` subtests (vitest); other indented lines are diagnostics and are ignored.
 * Only leaves are tests: a suite's own line just sums up its children.
 * With `nodeLocations`, the file part of an id comes from node's `location:` field.
 */
export function parseTap(log: string, options: ParseOptions, mode: { nodeLocations: boolean }): ParsedLog {
  const lines = log.split(/\r?\n/);
  const points: Point[] = [];
  let stack: Frame[] = [];
  let blocks = 0;
  let reportFound = false;

  const accepts = (indent: number): boolean =>
    indent === 0 || stack.some((frame) => frame.indent === indent) || stack.at(-1)?.indent === indent - 4;

  // Lines before the version header are not part of the report (raw output of a test, say).
  const start = lines.findIndex((line) => /^TAP version \d+/.test(line));
  for (let i = Math.max(0, start); i < lines.length; i++) {
    const line = lines[i]!;
    const indent = line.length - line.trimStart().length;
    const body = line.slice(indent).trimEnd();
    if (indent === 0 && /^TAP version \d+/.test(body)) {
      reportFound = true;
      continue;
    }
    if (body.startsWith('Bail out!') && accepts(indent)) {
      reportFound = true;
      break;
    }
    if (indent === 0 && /^1\.\.\d+/.test(body)) {
      reportFound = true;
      continue;
    }
    const subtest = SUBTEST.exec(body);
    if (subtest) {
      if (!accepts(indent)) continue;
      stack = stack.filter((frame) => frame.indent < indent);
      if (indent === 0) blocks++;
      stack.push({ indent, name: unescapeTap(subtest[1]!), block: stack[0]?.block ?? blocks, hasChildren: false, buffered: false });
      continue;
    }
    if (body === '}') {
      stack = stack.filter((frame) => frame.indent < indent);
      continue;
    }
    const point = TEST_POINT.exec(body);
    if (!point || !accepts(indent)) continue;

    const { name, status, opensGroup } = readDescription(point[1] === 'ok', point[2]!);
    stack = stack.filter((frame) => frame.indent <= indent);
    const own = stack.at(-1)?.indent === indent && !stack.at(-1)!.buffered ? stack.pop() : undefined;
    stack = stack.filter((frame) => frame.indent < indent);
    if (indent === 0 && !own) blocks++;
    const block = own?.block ?? stack[0]?.block ?? blocks;
    for (const frame of stack) frame.hasChildren = true;
    const entry: Point = {
      ancestors: stack.map((frame) => frame.name),
      name,
      status,
      leaf: !own?.hasChildren && !opensGroup,
      topLevel: indent === 0,
      block,
    };
    points.push(entry);
    reportFound = true;
    if (opensGroup) stack.push({ indent, name, block, hasChildren: true, buffered: true });

    // A YAML block may follow; skip it whole so nothing inside reads as a test point.
    const next = lines[i + 1];
    if (next !== undefined && next.trim() === '---' && next.length - next.trimStart().length > indent) {
      const yamlIndent = next.length - next.trimStart().length;
      const end = `${' '.repeat(yamlIndent)}...`;
      let j = i + 2;
      for (; j < lines.length && lines[j]!.trimEnd() !== end; j++) {
        const location = /^location:\s*(.+)$/.exec(lines[j]!.slice(yamlIndent));
        if (location && lines[j]!.length - lines[j]!.trimStart().length === yamlIndent) {
          entry.location = locationFile(location[1]!, options.root);
        }
      }
      i = j;
    }
  }

  const parsed = emptyLog(reportFound);
  const blockFiles = mode.nodeLocations ? fileOfEachBlock(points, blocks) : new Map<number, string>();
  for (const point of points) {
    if (!point.leaf) continue;
    // node reports a file that failed to load as a top-level test named after the file.
    if (point.topLevel && point.location !== undefined && relativePath(point.name, options.root) === point.location) {
      recordTest(parsed, point.location, point.status === 'FAILED' ? 'ERROR' : point.status);
      continue;
    }
    const file = mode.nodeLocations ? (point.location ?? blockFiles.get(point.block)) : undefined;
    recordTest(parsed, testId([file, ...point.ancestors, point.name]), point.status, {
      title: point.name,
      native: [[...point.ancestors, point.name].join(' > '), [...point.ancestors, point.name].join(' ')],
    });
  }
  return parsed;
}

/**
 * node prints `location:` only for failing tests, so a top-level test whose subtree never failed
 * takes the file of the nearest block before it (node reports files one after another), or
 * after it. A run where nothing failed has no file parts at all: prefer `node-junit` there.
 */
function fileOfEachBlock(points: Point[], blocks: number): Map<number, string> {
  const known = new Map<number, string>();
  for (const point of points) {
    if (point.location !== undefined && !known.has(point.block)) known.set(point.block, point.location);
  }
  const files = new Map<number, string>();
  let previous: string | undefined;
  for (let block = 0; block <= blocks; block++) {
    previous = known.get(block) ?? previous;
    if (previous !== undefined) files.set(block, previous);
  }
  let following: string | undefined;
  for (let block = blocks; block >= 0; block--) {
    following = known.get(block) ?? following;
    if (!files.has(block) && following !== undefined) files.set(block, following);
  }
  return files;
}

function readDescription(ok: boolean, description: string): { name: string; status: TestStatus; opensGroup: boolean } {
  let text = description.trim();
  const opensGroup = text.endsWith('{') && (text.length === 1 || /\s\{$/.test(text));
  if (opensGroup) text = text.slice(0, -1).trimEnd();
  const hash = unescapedHash(text);
  const directive = hash < 0 ? '' : text.slice(hash + 1).trim();
  const name = unescapeTap((hash < 0 ? text : text.slice(0, hash)).trim());
  let status: TestStatus = ok ? 'PASSED' : 'FAILED';
  if (/^(skip|todo)\b/i.test(directive)) status = 'SKIPPED';
  else if (/^expected failure\b/i.test(directive)) status = ok ? 'XFAIL' : 'FAILED';
  return { name, status, opensGroup };
}

function unescapedHash(text: string): number {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '#') return i;
  }
  return -1;
}

function unescapeTap(text: string): string {
  return text.replace(/\\([\\#])/g, '$1');
}

/** `'/abs/file.js:12:3'` -> `file.js`, relative to root. */
function locationFile(value: string, root: string): string {
  const unquoted = value.trim().replace(/^(['"])(.*)\1$/, '$2');
  return relativePath(unquoted.replace(/:\d+:\d+$/, '').replace(/:\d+$/, ''), root);
}
