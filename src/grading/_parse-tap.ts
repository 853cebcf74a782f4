import { Parser, type Result } from 'tap-parser';
import type { ParsedLog, ParseOptions, TestStatus } from './_parse-types.ts';
import { emptyLog, recordTest, relativePath, testId } from './_parse-shared.ts';

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

/**
 * TAP, flat or nested, read by tap-parser (node-tap's own): `# Subtest:` announcements (node,
 * node-tap) and buffered `{ ... }` subtests (vitest) nest; YAML blocks are diagnostics. Only
 * leaves are tests: a suite's own line just sums up its children. Lines before the version header
 * are not part of the report (raw output of a test, say). With `nodeLocations`, the file part of
 * an id comes from node's `location:` field.
 * One report per log: a second version header or top-level plan, TAP lines after the report
 * ended, or a test number given twice at any level is output written into the runner's stream,
 * and sets `tamperReason`.
 */
export function parseTap(log: string, options: ParseOptions, mode: { nodeLocations: boolean }): ParsedLog {
  const header = log.search(/^TAP version \d+/m);
  const text = header < 0 ? log : log.slice(header);
  const points: Point[] = [];
  const counts = { versions: 0, plans: 0, blocks: 0, points: 0, trailing: 0 };
  let bailedOut = false;
  const parser = new Parser();
  const levels: Parser[] = [];
  const attach = (level: Parser, ancestors: string[]): void => {
    const topLevel = ancestors.length === 0;
    levels.push(level);
    level.on('child', (child: Parser) => {
      if (topLevel) counts.blocks++;
      attach(child, [...ancestors, child.name]);
    });
    level.on('assert', (result: Result) => {
      const closing = result.closingTestPoint || result.buffered;
      if (topLevel && !closing) counts.blocks++;
      counts.points++;
      const { name, status } = readResult(result);
      const location = typeof result.diag?.location === 'string' ? locationFile(result.diag.location, options.root) : undefined;
      points.push({ ancestors, name, status, leaf: !closing, topLevel, block: counts.blocks, ...(location === undefined ? {} : { location }) });
    });
    level.on('bailout', () => {
      bailedOut = true;
    });
    if (topLevel) {
      level.on('version', () => counts.versions++);
      level.on('plan', () => counts.plans++);
      // tap-parser hands back what follows a finished document as `extra`.
      level.on('extra', (line: string) => {
        if (/^\s*(?:(?:not )?ok\b|\d+\.\.\d+|TAP version|Bail out!)/.test(line)) counts.trailing++;
      });
    }
  };
  attach(parser, []);
  parser.end(text);

  // tap-parser makes up a version and an empty plan for text with neither; only real lines count here.
  const parsed = emptyLog(header >= 0 || counts.points > 0 || /^1\.\.\d+/m.test(text) || (bailedOut && /^\s*Bail out!/m.test(text)));
  const tamperReason = tampering(levels, counts);
  if (tamperReason !== undefined) parsed.tamperReason = tamperReason;
  const blockFiles = mode.nodeLocations ? fileOfEachBlock(points, counts.blocks) : new Map<number, string>();
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
      swebench: point.name,
      native: [[...point.ancestors, point.name].join(' > '), [...point.ancestors, point.name].join(' ')],
    });
  }
  return parsed;
}

function tampering(levels: Parser[], counts: { versions: number; plans: number; trailing: number }): string | undefined {
  if (counts.versions > 1) return `the log holds ${counts.versions} TAP version headers; a runner writes one`;
  if (counts.plans > 1) return `the log holds ${counts.plans} top-level TAP plans; a runner writes one`;
  if (counts.trailing > 0) return `${counts.trailing} TAP line(s) follow the end of the report; a runner writes one`;
  const repeated = levels.flatMap((level) => level.failures).find((failure) => typeof failure.tapError === 'string' && /appears multiple times/.test(failure.tapError));
  if (repeated) return `a TAP test point is reported twice (${repeated.tapError})`;
  return undefined;
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

function readResult(result: Result): { name: string; status: TestStatus } {
  // node marks `expectFailure` tests in the description, which TAP does not know as a directive.
  const expected = /\s*#\s*expected failure\b.*$/i.exec(result.name);
  const name = expected ? result.name.slice(0, expected.index).trim() : result.name.trim();
  let status: TestStatus = result.ok ? 'PASSED' : 'FAILED';
  if (result.skip !== false || result.todo !== false) status = 'SKIPPED';
  else if (expected) status = result.ok ? 'XFAIL' : 'FAILED';
  return { name, status };
}

/** `'/abs/file.js:12:3'` -> `file.js`, relative to root. */
function locationFile(value: string, root: string): string {
  const unquoted = value.trim().replace(/^(['"])(.*)\1$/, '$2');
  return relativePath(unquoted.replace(/:\d+:\d+$/, '').replace(/:\d+$/, ''), root);
}
