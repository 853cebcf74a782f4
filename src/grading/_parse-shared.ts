import { posix } from 'node:path';
import type { ParsedLog, TestNames, TestStatus } from './_parse-types.ts';

// Worst first: when a test is reported twice, the worse status stands, so output a test prints
// about itself (a forged `ok` or `PASSED`) can never upgrade what the runner reported.
const SEVERITY: Record<TestStatus, number> = { ERROR: 4, FAILED: 3, SKIPPED: 2, XFAIL: 1, PASSED: 0 };

export function worseStatus(a: TestStatus, b: TestStatus): TestStatus {
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}

export function emptyLog(reportFound = false): ParsedLog {
  return { tests: new Map(), names: new Map(), reportFound };
}

/** Records one report of a test (its worst status stands) and the runner's names for it. */
export function recordTest(
  log: ParsedLog,
  id: string,
  status: TestStatus,
  names: { native?: (string | undefined)[]; title?: string; swebench?: string; polybench?: string } = {},
): void {
  const previous = log.tests.get(id);
  log.tests.set(id, previous === undefined ? status : worseStatus(previous, status));
  const known: TestNames = log.names.get(id) ?? { native: [] };
  for (const name of names.native ?? []) {
    if (name !== undefined && name !== '' && name !== id && !known.native.includes(name)) known.native.push(name);
  }
  for (const key of ['title', 'swebench', 'polybench'] as const) {
    if (known[key] === undefined && names[key] !== undefined && names[key] !== '') known[key] = names[key];
  }
  log.names.set(id, known);
}

/** The last part of an id (`a.py::C::test_x[p::q]` -> `test_x[p::q]`), ignoring `::` inside brackets. */
export function lastIdPart(id: string): string {
  const bracket = id.indexOf('[');
  const head = bracket < 0 ? id : id.slice(0, bracket);
  const cut = head.lastIndexOf('::');
  return cut < 0 ? id : id.slice(cut + 2);
}

/** The log without terminal escape sequences (pytest `--color=yes`, coloured runners). */
export function stripAnsi(log: string): string {
  return log.replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, '');
}

/** file + ancestor suites + title, empty parts dropped. */
export function testId(parts: readonly (string | undefined)[]): string {
  return parts.filter((part): part is string => part !== undefined && part !== '').join('::');
}

/** A path as the repository sees it: relative to `root` when it lies inside it. */
export function relativePath(path: string, root: string): string {
  let file = path.trim();
  if (file.startsWith('file://')) {
    try {
      file = decodeURIComponent(new URL(file).pathname);
    } catch {
      file = file.slice('file://'.length);
    }
  }
  if (file.startsWith('/')) file = posix.normalize(file);
  const base = root.replace(/\/+$/, '');
  if (base !== '' && file.startsWith(`${base}/`)) return file.slice(base.length + 1);
  if (file.startsWith('./')) return file.slice(2);
  return file;
}

// A log flooded with report openings is read no further than this.
const MAX_JSON_STARTS = 200;

/**
 * The JSON report in `log`: the object that starts where `start` matches and that `accept` takes.
 * A reporter prints one; when the log holds more (a test printed one of its own), the last is
 * returned with a `tamperReason`, since anything but the runner could have written the others.
 */
export function locateJsonReport(log: string, start: RegExp, accept: (value: unknown) => boolean): { report?: unknown; tamperReason?: string } {
  const flags = start.flags.includes('g') ? start.flags : `${start.flags}g`;
  const reports: unknown[] = [];
  let after = 0;
  let tried = 0;
  for (const match of log.matchAll(new RegExp(start.source, flags))) {
    if (match.index < after) continue; // inside a report already taken
    if (++tried > MAX_JSON_STARTS) break;
    const end = balancedObjectEnd(log, match.index);
    if (end === undefined) continue;
    let value: unknown;
    try {
      value = JSON.parse(log.slice(match.index, end));
    } catch {
      continue;
    }
    if (!accept(value)) continue;
    reports.push(value);
    after = end;
  }
  if (reports.length === 0) return {};
  if (reports.length > 1) return { report: reports.at(-1), tamperReason: `the log holds ${reports.length} JSON reports; a runner writes one` };
  return { report: reports[0] };
}

/** Index just past the `}` closing the object that opens at `from`, or undefined if it never closes. */
function balancedObjectEnd(text: string, from: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = from; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c) i++; // backslash: skip the escaped character
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x7b || char === 0x5b) {
      depth++;
    } else if (char === 0x7d || char === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return undefined;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function stringField(record: Record<string, unknown>, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' ? value : undefined;
}

export function arrayField(record: Record<string, unknown>, key: string): unknown[] {
  const value = record[key];
  return Array.isArray(value) ? value : [];
}

/**
 * A JavaScript test's names as other harnesses write them: jest's `fullName` (suites and title
 * joined by spaces), SWE-PolyBench's `<file>-><fullName>`, vitest's `file > suite > title`.
 */
export function jsTestNames(file: string | undefined, suites: string[], title: string, fullName?: string) {
  const full = fullName ?? [...suites, title].join(' ');
  const polybench = file === undefined ? full : `${file}->${full}`;
  const vitestLine = [...(file === undefined ? [] : [file]), ...suites, title].join(' > ');
  return { title, native: [full, polybench, vitestLine], polybench, vitestLine };
}

/** A pytest node id's names: SWE-bench keeps the id cut at its first whitespace (its `-rA` parser splits lines). */
export function pytestNames(id: string) {
  return { title: lastIdPart(id), swebench: id.split(/\s/)[0]!, polybench: id };
}
