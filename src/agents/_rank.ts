import { lstat, open, readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';

export type RepoFile = { path: string; content: string };
export type RankedFile = RepoFile & { score: number };

/** Directories never worth showing a model: version control, dependencies, caches. */
const SKIPPED_DIRS = new Set([
  '.git', '.hg', '.svn', 'node_modules', '__pycache__', '.venv', 'venv', '.tox', '.nox',
  '.mypy_cache', '.pytest_cache', '.ruff_cache', '.hypothesis', '.eggs', '.next', '.cache',
]);
const LOCK_FILES = new Set([
  'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb', 'poetry.lock', 'Pipfile.lock',
  'uv.lock', 'Cargo.lock', 'Gemfile.lock', 'composer.lock', 'go.sum', 'flake.lock',
]);
const MAX_FILE_BYTES = 256 * 1024;
const MAX_FILES_SCANNED = 5000;

/** The repository's text files under `dir`, by relative path; symlinks, binaries and lock files left out. */
export async function collectFiles(dir: string): Promise<RepoFile[]> {
  const files: RepoFile[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await readdir(join(dir, relative), { withFileTypes: true }).catch(() => []);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      if (files.length >= MAX_FILES_SCANNED) return;
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!SKIPPED_DIRS.has(entry.name)) await walk(path);
      } else if (entry.isFile() && !LOCK_FILES.has(entry.name) && !entry.name.endsWith('.lock')) {
        const content = await readText(join(dir, path));
        if (content !== null) files.push({ path, content });
      }
    }
  };
  await walk('');
  return files;
}

async function readText(path: string): Promise<string | null> {
  const stats = await lstat(path).catch(() => undefined);
  if (!stats?.isFile() || stats.size > MAX_FILE_BYTES) return null;
  const handle = await open(path, 'r').catch(() => undefined);
  if (!handle) return null;
  try {
    const bytes = await handle.readFile();
    // A NUL byte early on is the usual sign of a binary file.
    if (bytes.subarray(0, 8000).includes(0)) return null;
    return bytes.toString('utf8');
  } finally {
    await handle.close();
  }
}

const STOP_WORDS = new Set(
  ('the and for with that this from are was were but not you your have has had its into than then there their they them when ' +
    'what which while where who how should would could can will just also only some any all our out get got use used using one two ' +
    'like make does did done been being very more most such other same expected instead still must need needs about after before ' +
    'const let var function return new true false null undefined import export default def self none class').split(' '),
);

/** Identifier-aware words: `parseHTTPRequest_v2` gives the whole identifier and parse, http, request, v2. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const match of text.matchAll(/[A-Za-z][A-Za-z0-9_]*/g)) {
    const word = match[0];
    const lower = word.toLowerCase();
    if (lower.length >= 2 && !STOP_WORDS.has(lower)) tokens.push(lower);
    const parts = word.split(/_+|(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/).filter(Boolean);
    if (parts.length < 2) continue;
    for (const part of parts) {
      const piece = part.toLowerCase();
      if (piece.length >= 2 && !STOP_WORDS.has(piece)) tokens.push(piece);
    }
  }
  return tokens;
}

/** Gold patches leave tests to the test patch, so test files rank a little lower. */
function isTestPath(path: string): boolean {
  return /(^|\/)(tests?|__tests__|spec|specs)\//.test(path) || /\.(test|spec)\.[cm]?[jt]sx?$/.test(path) || /(^|\/)test_[^/]*\.py$/.test(path) || /_test\.(py|go)$/.test(path);
}

/** Prose and metadata describe everything, so they match every issue; the fix is nearly always in code. */
function isDocumentPath(path: string): boolean {
  return /\.(md|rst|txt|adoc|json|ya?ml|toml|cfg|ini)$/i.test(path) || /(^|\/)(README|CHANGELOG|CHANGES|HISTORY|LICENSE|NOTICE|AUTHORS)[^/]*$/i.test(path);
}

/** Identifiers the issue names as code: in backticks or code blocks, or shaped like one (camelCase, snake_case). */
export function codeNames(problemStatement: string): Set<string> {
  const names = new Set<string>();
  const code = [...problemStatement.matchAll(/```[\s\S]*?```|`[^`\n]+`/g)].map((match) => match[0]).join('\n');
  for (const match of code.matchAll(/[A-Za-z_$][\w$]{2,}/g)) names.add(match[0]);
  for (const match of problemStatement.matchAll(/\b[a-z_$][\w$]*(?:[a-z0-9][A-Z]|_[a-z0-9])[\w$]*\b/g)) names.add(match[0]);
  return names;
}

/** What matches a definition of `name` in a file: a function, class, method, or a binding given a value. */
function definitionOf(name: string): RegExp {
  const id = escape(name);
  return new RegExp(
    `(?:\\b(?:function\\*?|def|class|fn|func|const|let|var)\\s+${id}\\b)|(?:^[ \\t]*(?:async\\s+|static\\s+|get\\s+|set\\s+)*${id}\\s*\\([^)\\n]*\\)\\s*\\{)|(?:^[ \\t]*(?:this\\.)?${id}\\s*[:=]\\s*(?:async\\s+)?(?:function\\b|\\([^)\\n]*\\)\\s*=>))`,
    'm',
  );
}

const K1 = 1.2;
const B = 0.75;
const PATH_WEIGHT = 3;
const DEFINITION_BONUS = 4;

/** A repository's files with their token counts: what ranking needs, computed once per repository content. */
export type RepoIndex = {
  files: RepoFile[];
  documents: { counts: Map<string, number>; length: number }[];
  averageLength: number;
};

export function indexFiles(files: RepoFile[]): RepoIndex {
  const documents = files.map((file) => {
    const counts = new Map<string, number>();
    for (const token of tokenize(file.content)) counts.set(token, (counts.get(token) ?? 0) + 1);
    for (const token of tokenize(file.path)) counts.set(token, (counts.get(token) ?? 0) + PATH_WEIGHT);
    let length = 0;
    for (const count of counts.values()) length += count;
    return { counts, length };
  });
  const averageLength = documents.reduce((sum, document) => sum + document.length, 0) / Math.max(1, documents.length);
  return { files, documents, averageLength };
}

/** Indexes kept, newest last; bounded by the bytes of content they hold. */
const indexes = new Map<string, { index: Promise<RepoIndex>; bytes: number }>();
const INDEX_CACHE_BYTES = 256 * 1024 * 1024;

/**
 * The index of the repository under `dir` (or the folder it resolves to). With a `contentKey` (the workspace's pristine content,
 * see Workspace.contentKey) it is read once per key and shared by every attempt on that content;
 * without one it is read every time. Call it before anything has changed the work tree.
 */
export function repositoryIndex(dir: string | (() => Promise<string>), contentKey?: string): Promise<RepoIndex> {
  // Asked for only when the files are to be read: a shared index needs no work tree at all.
  const read = async () => indexFiles(await collectFiles(typeof dir === 'string' ? dir : await dir()));
  if (contentKey === undefined) return read();
  const found = indexes.get(contentKey);
  if (found) {
    indexes.delete(contentKey);
    indexes.set(contentKey, found);
    return found.index;
  }
  const entry = { index: read(), bytes: 0 };
  indexes.set(contentKey, entry);
  entry.index.then((index) => {
    entry.bytes = index.files.reduce((sum, file) => sum + file.content.length, 0);
    let total = 0;
    for (const { bytes } of indexes.values()) total += bytes;
    for (const [key, { bytes }] of indexes) {
      if (total <= INDEX_CACHE_BYTES || key === contentKey) break;
      indexes.delete(key);
      total -= bytes;
    }
  }, () => indexes.delete(contentKey));
  return entry.index;
}

/** Rankings already made of an index, by problem statement: every config and repeat of an instance ranks alike. */
const rankings = new WeakMap<RepoIndex, Map<string, readonly RankedFile[]>>();
const RANKINGS_PER_INDEX = 64;

/**
 * BM25 of every file against the problem statement, paths counted as well as contents; best
 * first. A ranking of a shared index is kept with it (the caller gets its own array).
 */
export function rankFiles(source: RepoFile[] | RepoIndex, problemStatement: string): RankedFile[] {
  if (Array.isArray(source)) return rank(indexFiles(source), problemStatement);
  let kept = rankings.get(source);
  if (!kept) rankings.set(source, (kept = new Map()));
  let ranked = kept.get(problemStatement);
  if (!ranked) {
    ranked = rank(source, problemStatement);
    if (kept.size >= RANKINGS_PER_INDEX) kept.delete(kept.keys().next().value!);
    kept.set(problemStatement, ranked);
  }
  return [...ranked];
}

function rank({ files, documents, averageLength }: RepoIndex, problemStatement: string): RankedFile[] {
  const query = new Set(tokenize(problemStatement));
  const statement = problemStatement.toLowerCase();
  // A file can define a name only if it holds it: the token counts (or a substring search) rule most files out before the pattern runs.
  const definitions = [...codeNames(problemStatement)].map((name) => {
    const token = name.toLowerCase();
    const counted = /^[a-z][a-z0-9_]*$/.test(token) && token.length >= 2 && !STOP_WORDS.has(token);
    return { name, token: counted ? token : undefined, pattern: definitionOf(name) };
  });
  const documentFrequency = new Map<string, number>();
  for (const document of documents) {
    for (const token of query) if (document.counts.has(token)) documentFrequency.set(token, (documentFrequency.get(token) ?? 0) + 1);
  }
  const ranked = files.map((file, index) => {
    const { counts, length } = documents[index]!;
    let score = 0;
    for (const token of query) {
      const frequency = counts.get(token);
      if (!frequency) continue;
      const df = documentFrequency.get(token)!;
      const idf = Math.log(1 + (files.length - df + 0.5) / (df + 0.5));
      score += (idf * frequency * (K1 + 1)) / (frequency + K1 * (1 - B + (B * length) / Math.max(1, averageLength)));
    }
    // A file the issue names outright is almost always involved.
    const name = basename(file.path).toLowerCase();
    if (statement.includes(file.path.toLowerCase())) score += 10;
    else if (name.includes('.') && statement.includes(name) && new RegExp(`\\b${escape(name)}\\b`).test(statement)) score += 5;
    // Defining what the issue calls is the strongest sign a file holds the code to change.
    score += DEFINITION_BONUS * definitions.filter((d) => (d.token ? counts.has(d.token) : file.content.includes(d.name)) && d.pattern.test(file.content)).length;
    if (isTestPath(file.path)) score *= 0.6;
    if (isDocumentPath(file.path)) score *= 0.5;
    return { ...file, score };
  });
  return ranked.sort((a, b) => b.score - a.score || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
