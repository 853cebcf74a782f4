import { editDistance } from '../errors.ts';
import { worseStatus } from './_parse-shared.ts';
import type { TestNames, TestStatus } from './_parse-types.ts';

/**
 * How a dataset's test name found its parsed test, strictest first. Each rule is tried only when
 * every stricter one found nothing, so a looser rule can never overrule (or upgrade) a stricter match:
 * - `id`: our own id, `file::suites::title`;
 * - `native`: a name the runner itself gives the test: pytest node id; unittest and Django
 *   `test (module.Class)`, `test (module.Class.test)`, `module.Class.test` and the docstring line
 *   verbose unittest prints in its place; mocha `fullTitle`; jest and vitest `fullName`,
 *   `<file>-><fullName>` (SWE-PolyBench) and `file > suite > title` (vitest verbose); karma and
 *   nested TAP `suite > title`; sympy's `file.py:test`;
 * - `container-path`: `<absolute file>-><fullName>` written inside a container (`/app/`,
 *   `/testbed/`, any root): leading folders are dropped until the rest names a test;
 * - `title`: the test's own title alone, as jest and vitest verbose output, TAP descriptions
 *   (also with SWE-bench's leading `- `) and sympy's function names give it;
 * - `truncated`: SWE-bench cuts a name at its first whitespace (a pytest id with a space in its
 *   parameters keeps an unbalanced `[`): the name followed by whitespace starts a parsed name.
 *   It counts only when every test it starts has the same status.
 * A name matching several tests takes the worst of their statuses; a name matching none is missing.
 */
export const MATCH_RULES = ['id', 'native', 'container-path', 'title', 'truncated'] as const;

export type MatchRule = (typeof MATCH_RULES)[number];

export type TestMatch = {
  /** The rule that matched, or `none`. */
  rule: MatchRule | 'none';
  /** Our ids of the parsed tests the name matched. */
  tests: string[];
  /** The worst status among them; MISSING when nothing matched (or a truncated name was ambiguous). */
  status: TestStatus | 'MISSING';
  note?: string;
};

export type ParsedTests = { tests: Map<string, TestStatus>; names?: Map<string, TestNames> };

/** Matches every dataset name against the parsed tests (indexes built once). */
export function matchTests(datasetNames: readonly string[], parsed: ParsedTests): Map<string, TestMatch> {
  const index = buildIndex(parsed);
  const matches = new Map<string, TestMatch>();
  for (const name of datasetNames) if (!matches.has(name)) matches.set(name, matchOne(name, parsed.tests, index));
  return matches;
}

type Index = { native: Map<string, string[]>; title: Map<string, string[]>; full: [string, string][] };

function buildIndex(parsed: ParsedTests): Index {
  const native = new Map<string, string[]>();
  const title = new Map<string, string[]>();
  const full: [string, string][] = [];
  const add = (map: Map<string, string[]>, key: string, id: string) => {
    const ids = map.get(key);
    if (ids === undefined) map.set(key, [id]);
    else if (!ids.includes(id)) ids.push(id);
  };
  for (const id of parsed.tests.keys()) {
    full.push([id, id]);
    const names = parsed.names?.get(id);
    for (const name of names?.native ?? []) {
      add(native, name, id);
      full.push([name, id]);
    }
    if (names?.title !== undefined) add(title, names.title, id);
  }
  return { native, title, full };
}

function matchOne(name: string, tests: Map<string, TestStatus>, index: Index): TestMatch {
  if (tests.has(name)) return found('id', [name], tests);
  const native = index.native.get(name);
  if (native) return found('native', native, tests);
  const contained = containerPath(name, index);
  if (contained) return found('container-path', contained, tests);
  const titled = index.title.get(name) ?? (name.startsWith('- ') ? index.title.get(name.slice(2)) : undefined);
  if (titled) return found('title', titled, tests);
  return truncated(name, tests, index) ?? { rule: 'none', tests: [], status: 'MISSING' };
}

function found(rule: MatchRule, ids: string[], tests: Map<string, TestStatus>): TestMatch {
  const status = ids.map((id) => tests.get(id)!).reduce(worseStatus);
  return { rule, tests: [...ids], status };
}

/** `/app/src/a.test.js->suite title` -> `src/a.test.js->suite title`: the longest tail that names a test. */
function containerPath(name: string, index: Index): string[] | undefined {
  const arrow = name.indexOf('->');
  if (!name.startsWith('/') || arrow < 0) return undefined;
  const path = name.slice(0, arrow).split('/').filter(Boolean);
  const rest = name.slice(arrow);
  for (let drop = 0; drop < path.length; drop++) {
    const ids = index.native.get(`${path.slice(drop).join('/')}${rest}`);
    if (ids) return ids;
  }
  return undefined;
}

function truncated(name: string, tests: Map<string, TestStatus>, index: Index): TestMatch | undefined {
  if (name === '' || /\s$/.test(name)) return undefined;
  const ids = new Set<string>();
  for (const [full, id] of index.full) {
    if (full.length > name.length && full.startsWith(name) && /\s/.test(full[name.length]!)) ids.add(id);
  }
  if (ids.size === 0) return undefined;
  const statuses = new Set([...ids].map((id) => tests.get(id)!));
  if (statuses.size > 1) {
    return { rule: 'truncated', tests: [...ids], status: 'MISSING', note: `a cut name whose tests disagree (${[...statuses].join(', ')})` };
  }
  return { rule: 'truncated', tests: [...ids], status: [...statuses][0]! };
}

/** How `bench tasks validate --derive` writes test names: ours, or as SWE-bench or SWE-PolyBench name them. */
export const TEST_NAMINGS = ['bench', 'swebench', 'polybench'] as const;

export type TestNaming = (typeof TEST_NAMINGS)[number];

/** A parsed test's name in `naming`; our id where that harness has no parser for the runner. */
export function testNameIn(naming: TestNaming, id: string, names: TestNames | undefined): string {
  if (naming === 'swebench') return names?.swebench ?? id;
  if (naming === 'polybench') return names?.polybench ?? id;
  return id;
}

/** The `count` parsed names (ids and runner names) closest to `name`, for telling a user what the run did report. */
export function nearestTestNames(name: string, parsed: { tests: Iterable<string>; names?: Iterable<TestNames> }, count = 3): string[] {
  const candidates = new Set<string>(parsed.tests);
  for (const names of parsed.names ?? []) for (const native of names.native) candidates.add(native);
  return [...candidates]
    .map((candidate) => ({ candidate, distance: editDistance(name.toLowerCase(), candidate.toLowerCase()) }))
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, count)
    .map((entry) => entry.candidate);
}
