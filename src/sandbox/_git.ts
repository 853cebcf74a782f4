import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { emptyDir, emptyFile, privateDir } from './_private.ts';
import { runCommand } from './_process.ts';
import { CP_TREE } from './_tree.ts';
import { SYSTEM_PATH } from './_bwrap.ts';
import type { ExecResult, WorkspaceDiff } from './_types.ts';

/** Fixed identity and date: the same content always gives the same base commit sha. */
const BASE_IDENTITY = {
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@localhost',
  GIT_AUTHOR_DATE: '2000-01-01T00:00:00+0000',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@localhost',
  GIT_COMMITTER_DATE: '2000-01-01T00:00:00+0000',
};
export const BASE_BRANCH = 'main';

/** Caches that test runs leave behind; never part of a patch. */
const CACHE_PATTERNS = ['__pycache__/', '*.py[co]', '.pytest_cache/', '.mypy_cache/', '.ruff_cache/', '.hypothesis/'];

/** Git isolated from the host's system and user configuration (its global config an empty file of ours, never /dev/null). */
export function gitEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: '/nonexistent',
    XDG_CONFIG_HOME: '/nonexistent',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: emptyFile(),
    GIT_TERMINAL_PROMPT: '0',
    LANG: 'C',
    LC_ALL: 'C',
    TZ: 'UTC',
    ...extra,
  };
}

let guardsPaths: Promise<boolean> | undefined;

/**
 * Whether the git a host sandbox's commands find on their PATH (the one SYSTEM_PATH names, as the
 * harness's own host sees it) refuses, in `git apply`, every path with a `.git` component (any
 * case) and every path beyond a symbolic link, links the same patch creates included: git 2.39.2
 * and later (CVE-2023-23946). A patch such a git applied cannot have made or written a `.git`.
 * Read once per process from `git --version`; false when that cannot be read, or for an older
 * version even where a distribution backported the fix (the version is all we go by).
 */
export function hostGitGuardsPaths(): Promise<boolean> {
  guardsPaths ??= runCommand('git', ['--version'], { env: { PATH: SYSTEM_PATH, LANG: 'C', LC_ALL: 'C' } }).then(
    (result) => result.exitCode === 0 && gitVersionAtLeast(String(result.stdout ?? ''), [2, 39, 2]),
    () => false,
  );
  return guardsPaths;
}

/** `git version 2.39.5` (or `2.39.5.windows.1`, `2.40.0-rc1`) at least `wanted`. */
export function gitVersionAtLeast(versionLine: string, wanted: readonly [number, number, number]): boolean {
  const found = /\bgit version (\d+)\.(\d+)(?:\.(\d+))?/.exec(versionLine);
  if (!found) return false;
  const parts = [Number(found[1]), Number(found[2]), Number(found[3] ?? 0)];
  for (let i = 0; i < 3; i++) if (parts[i] !== wanted[i]) return parts[i]! > wanted[i]!;
  return true;
}

/** Hooks would run code of the repository on the host: point git at an empty directory of ours. */
function noHooks(): string[] {
  return ['-c', `core.hooksPath=${emptyDir()}`];
}

async function git(args: string[], cwd: string, env: Record<string, string>, allowedExitCodes = [0]): Promise<string> {
  const result = await runCommand('git', args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
  if (result.exitCode === undefined || !allowedExitCodes.includes(result.exitCode)) {
    throw new Error(`git ${args.join(' ')} failed in ${cwd} (exit ${result.exitCode}): ${String(result.stderr).trim()}`);
  }
  return String(result.stdout);
}

/**
 * Turns `dir` into a repository with one commit of its content and nothing else: no hooks,
 * reflogs, tags or remotes. Top-level names in `excluded` stay out of the commit.
 */
export async function commitBase(dir: string, excluded: readonly string[]): Promise<string> {
  const env = gitEnv(BASE_IDENTITY);
  await git(['init', '-q', '--template=', `--initial-branch=${BASE_BRANCH}`], dir, env);
  const settings: [string, string][] = [
    ['core.logAllRefUpdates', 'false'],
    ['core.autocrlf', 'false'],
    ['gc.auto', '0'],
    ['user.name', BASE_IDENTITY.GIT_AUTHOR_NAME],
    ['user.email', BASE_IDENTITY.GIT_AUTHOR_EMAIL],
  ];
  for (const [key, value] of settings) await git(['config', key, value], dir, env);
  await mkdir(join(dir, '.git', 'info'), { recursive: true });
  await writeFile(join(dir, '.git', 'info', 'exclude'), excluded.map((name) => `/${name}\n`).join(''));
  await git(['add', '-A'], dir, env);
  await git([...noHooks(), 'commit', '-q', '--no-verify', '--no-gpg-sign', '--allow-empty', '-m', 'base'], dir, env);
  await git(['-c', 'repack.updateServerInfo=false', 'repack', '-a', '-d', '-q'], dir, env);
  await rm(join(dir, '.git', 'COMMIT_EDITMSG'), { force: true });
  return (await git(['rev-parse', 'HEAD'], dir, env)).trim();
}

export type DiffTarget = {
  /** Private git directory of this workspace, outside anything a sandboxed command can write. */
  controlDir: string;
  workTree: string;
  baseDir: string;
  baseCommit: string;
  /** Bytes of new, changed and deleted content beyond which the workspace is oversized. */
  maxBytes: number;
  timeoutMs: number;
};

/** The patch text may exceed the content it describes (context lines, both sides of a change, base85). */
const PATCH_BYTES_PER_CONTENT_BYTE = 4;

/**
 * Diff of the work tree against the base commit, untracked files included, bounded in size and
 * time: first the sizes of what changed are summed from the file system (no content read),
 * then git builds the patch under a deadline and an output cap. It uses its own git directory
 * and index so nothing a command wrote into the workspace's `.git` (hooks, fsmonitor, filters,
 * a moved HEAD) can change the result or run on the host.
 */
export async function diffWorkTree(target: DiffTarget): Promise<WorkspaceDiff> {
  try {
    return await boundedDiff(target);
  } catch (error) {
    // The workspace's own disk is full: what the agent left there, not a harness fault.
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC' || /No space left on device/i.test(String((error as Error).message))) {
      return { ok: false, reason: 'oversized', message: "the workspace's changes are too large to grade: they fill the workspace's disk" };
    }
    throw error;
  }
}

async function boundedDiff(target: DiffTarget): Promise<WorkspaceDiff> {
  const deadline = Date.now() + target.timeoutMs;
  await ensureControlDir(target);
  const env = gitEnv({
    GIT_DIR: target.controlDir,
    GIT_WORK_TREE: target.workTree,
    GIT_INDEX_FILE: join(target.controlDir, 'index'),
  });
  const limitMb = Math.round(target.maxBytes / (1024 * 1024));
  const oversized = (what: string): WorkspaceDiff => ({
    ok: false,
    reason: 'oversized',
    message: `the workspace's changes are too large to grade: ${what} (the limit is ${limitMb} MB of new, changed and deleted files, and ${Math.round(target.timeoutMs / 1000)} s to diff them)`,
  });
  const changed = await changedBytes(target, env, deadline);
  if (changed === 'timeout') return oversized('listing them took too long');
  if (changed > target.maxBytes) {
    return oversized(Number.isFinite(changed) ? `at least ${Math.ceil(changed / (1024 * 1024))} MB changed` : 'too many new files to list');
  }

  const safe = ['-c', 'core.fsmonitor=false', ...noHooks()];
  const run = (args: string[], maxBuffer: number) =>
    runCommand('git', [...safe, ...args], { cwd: target.workTree, env, maxBuffer, timeoutMs: Math.max(1, deadline - Date.now()) });
  // --ignore-errors: an unreadable or special file must not hide every other change (exit 128 is a real failure).
  const added = await run(['add', '-A', '--ignore-errors'], 16 * 1024 * 1024);
  if (added.timedOut) return oversized('adding them took too long');
  if (added.isMaxBuffer) return oversized('git reports too many files it cannot read');
  if (/No space left on device/i.test(String(added.stderr))) return oversized('they fill the workspace\'s disk');
  if (added.exitCode !== 0 && added.exitCode !== 1) throw new Error(`git add failed in ${target.workTree} (exit ${added.exitCode}): ${String(added.stderr).trim()}`);
  const diff = await run(
    [
      'diff', '--cached', '--binary', '--no-color', '--no-ext-diff', '--no-textconv', '--no-renames',
      '--src-prefix=a/', '--dst-prefix=b/', target.baseCommit, '--',
    ],
    target.maxBytes * PATCH_BYTES_PER_CONTENT_BYTE,
  );
  if (diff.timedOut) return oversized('diffing them took too long');
  if (diff.isMaxBuffer) return oversized(`the patch exceeds ${limitMb * PATCH_BYTES_PER_CONTENT_BYTE} MB`);
  if (diff.exitCode !== 0) throw new Error(`git diff failed in ${target.workTree} (exit ${diff.exitCode}): ${String(diff.stderr).trim()}`);
  return { ok: true, patch: String(diff.stdout) };
}

const baseSizes = new Map<string, Promise<Map<string, number>>>();

/**
 * The base commit's files and their sizes, read once per base from the harness's own repository
 * of the base (never a workspace's `.git`, which commands may have rewritten).
 */
export function baseFiles(base: Pick<DiffTarget, 'baseDir' | 'baseCommit'>): Promise<ReadonlyMap<string, number>> {
  const key = `${base.baseDir}\0${base.baseCommit}`;
  let sizes = baseSizes.get(key);
  if (!sizes) {
    const gitDir = join(base.baseDir, '.git');
    sizes = git(['ls-tree', '-r', '-z', '-l', '--full-tree', base.baseCommit], gitDir, gitEnv({ GIT_DIR: gitDir })).then((listing) => {
      const found = new Map<string, number>();
      for (const entry of listing.split('\0')) {
        const tab = entry.indexOf('\t');
        if (tab < 0) continue;
        const size = Number(entry.slice(0, tab).trim().split(/\s+/)[3]);
        found.set(entry.slice(tab + 1), Number.isFinite(size) ? size : 0);
      }
      return found;
    });
    sizes.catch(() => baseSizes.delete(key));
    baseSizes.set(key, sizes);
  }
  return sizes;
}

/**
 * New untracked (not ignored) files' sizes, deleted files' base sizes and the growth of changed
 * ones: what a patch would have to carry, at least, from lstat alone.
 */
async function changedBytes(target: DiffTarget, env: Record<string, string>, deadline: number): Promise<number | 'timeout'> {
  const listed = await runCommand('git', ['ls-files', '-z', '--others', '--exclude-standard'], {
    cwd: target.workTree, env, maxBuffer: 64 * 1024 * 1024, timeoutMs: Math.max(1, deadline - Date.now()),
  });
  if (listed.timedOut) return 'timeout';
  // A listing beyond the buffer alone names more files than any patch may hold.
  if (listed.isMaxBuffer) return Number.POSITIVE_INFINITY;
  if (listed.exitCode !== 0) throw new Error(`git ls-files failed in ${target.workTree} (exit ${listed.exitCode}): ${String(listed.stderr).trim()}`);
  let total = 0;
  // Synchronous: a few microseconds a file, where the thread pool's round trip costs ten times that.
  const sizeAt = (path: string) => {
    try {
      return lstatSync(join(target.workTree, path)).size;
    } catch {
      return undefined;
    }
  };
  for (const path of String(listed.stdout).split('\0')) {
    if (path) total += sizeAt(path) ?? 0;
    if (total > target.maxBytes) return total;
  }
  for (const [path, base] of await baseFiles(target)) {
    const size = sizeAt(path);
    total += size === undefined ? base : Math.max(0, size - base);
    if (total > target.maxBytes) return total;
    if (Date.now() > deadline) return 'timeout';
  }
  return total;
}

const controlTemplates = new Map<string, Promise<string>>();

/**
 * A workspace's own git directory: objects borrowed from the base (alternates), the base commit
 * read into its index, the base's excludes and the test caches'. It is copied, with one `cp`, from
 * a template made once per base in this process's private directory.
 */
async function ensureControlDir(target: Pick<DiffTarget, 'controlDir' | 'baseDir' | 'baseCommit'>): Promise<void> {
  const { controlDir } = target;
  // Built by the workspace's first diff or apply.
  if (existsSync(join(controlDir, 'index'))) return;
  const template = await controlTemplate(target);
  const copied = await runCommand(CP_TREE[0], [...CP_TREE.slice(1), '-T', '--', template, controlDir], { env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' } });
  if (copied.exitCode !== 0) throw new Error(`could not make the git directory ${controlDir} (cp exit ${copied.exitCode ?? copied.signal}): ${copied.stderr.trim() || copied.message || ''}`);
}

/** The template of a workspace's git directory for this base (see ensureControlDir); a workspace made with a copy of it at `git` needs no other. */
export async function controlTemplate(base: Pick<DiffTarget, 'baseDir' | 'baseCommit'>): Promise<string> {
  const key = `${base.baseDir}\0${base.baseCommit}`;
  const made = controlTemplates.get(key);
  if (made) {
    const dir = await made.catch(() => undefined);
    // The private directory is made again if anything removed or changed it: so is the template.
    if (dir && dir.startsWith(privateDir()) && existsSync(join(dir, 'index'))) return dir;
    if (controlTemplates.get(key) === made) controlTemplates.delete(key);
  }
  let making = controlTemplates.get(key);
  if (!making) {
    making = makeControlTemplate(base);
    controlTemplates.set(key, making);
  }
  return making;
}

/** A template's folders and files (path within it, content), read once: the template never changes after it is made. */
const templateContents = new Map<string, { dirs: string[]; files: [string, Buffer][] }>();

/**
 * A copy of this base's template (see controlTemplate) at `dir`, which must not exist, written from
 * memory with some files' content replaced (`overrides`, by path within it): a few small writes
 * on the harness's thread rather than a walk of the template's tree on every grading.
 */
export async function writeControlDir(base: Pick<DiffTarget, 'baseDir' | 'baseCommit'>, dir: string, overrides: Record<string, string>): Promise<void> {
  const template = await controlTemplate(base);
  let contents = templateContents.get(template);
  if (!contents) {
    const entries = readdirSync(template, { recursive: true, withFileTypes: true });
    const relative = (entry: (typeof entries)[number]) => join(entry.parentPath, entry.name).slice(template.length + 1);
    contents = {
      dirs: entries.filter((entry) => entry.isDirectory()).map(relative).sort(),
      files: entries.filter((entry) => entry.isFile()).map((entry) => [relative(entry), readFileSync(join(entry.parentPath, entry.name))] as [string, Buffer]),
    };
    templateContents.set(template, contents);
  }
  mkdirSync(dir);
  for (const sub of contents.dirs) mkdirSync(join(dir, sub), { recursive: true });
  for (const [path, data] of contents.files) writeFileSync(join(dir, path), overrides[path] ?? data);
  for (const [path, text] of Object.entries(overrides)) if (!contents.files.some(([known]) => known === path)) writeFileSync(join(dir, path), text);
}

async function makeControlTemplate(base: Pick<DiffTarget, 'baseDir' | 'baseCommit'>): Promise<string> {
  const dir = await mkdtemp(join(privateDir(), 'git-'));
  await mkdir(join(dir, 'objects', 'info'), { recursive: true });
  await mkdir(join(dir, 'refs', 'heads'), { recursive: true });
  await mkdir(join(dir, 'info'), { recursive: true });
  await writeFile(join(dir, 'HEAD'), `ref: refs/heads/${BASE_BRANCH}\n`);
  // A file is unchanged when its size, mode and whole-second modification time are the index's (see below).
  await writeFile(join(dir, 'config'), '[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tcheckStat = minimal\n\ttrustctime = false\n');
  await writeFile(join(dir, 'objects', 'info', 'alternates'), `${join(base.baseDir, '.git', 'objects')}\n`);
  const baseExclude = await readFile(join(base.baseDir, '.git', 'info', 'exclude'), 'utf8').catch(() => '');
  await writeFile(join(dir, 'info', 'exclude'), `${baseExclude}${CACHE_PATTERNS.join('\n')}\n`);
  const env = gitEnv({ GIT_DIR: dir, GIT_INDEX_FILE: join(dir, 'index') });
  await git(['read-tree', base.baseCommit], dir, env);
  // The base's stat data into the index: a workspace's copy keeps sizes, modes and modification times, so `git status`
  // there compares those and reads only files written since (by the patch: a later time), where an index without it
  // has git read and hash every tracked file on every grading. A base that differs from its commit keeps those entries
  // unrefreshed, and git reads them as before.
  await git([...noHooks(), 'update-index', '-q', '--refresh'], base.baseDir, { ...env, GIT_WORK_TREE: base.baseDir }, [0, 1]);
  return dir;
}

/**
 * `git apply` of a patch to the work tree from the host, without starting a sandbox: applying is
 * data only (git writes the files the patch names, refuses paths outside the tree or beyond a
 * symlink, runs nothing). Git reads only our control directory and configuration, never the
 * workspace's own `.git`, which the tree's content could have shaped.
 */
export async function applyToWorkTree(
  target: Pick<DiffTarget, 'controlDir' | 'workTree' | 'baseDir' | 'baseCommit'>,
  patch: string,
  options: { recount?: boolean; timeoutMs: number },
): Promise<ExecResult> {
  const started = performance.now();
  await ensureControlDir(target);
  const env = gitEnv({ GIT_DIR: target.controlDir, GIT_WORK_TREE: target.workTree, GIT_INDEX_FILE: join(target.controlDir, 'index') });
  const result = await runCommand('git', ['-c', 'core.fsmonitor=false', ...noHooks(), 'apply', '--whitespace=nowarn', ...(options.recount ? ['--recount'] : []), '-'], {
    cwd: target.workTree, env, input: patch, timeoutMs: options.timeoutMs, maxBuffer: 1024 * 1024,
  });
  if (result.exitCode === undefined && !result.timedOut && !result.signal) throw new Error(`could not start git apply: ${result.message}`);
  return {
    exitCode: result.exitCode ?? null,
    signal: result.signal ?? null,
    timedOut: Boolean(result.timedOut),
    outputLimited: Boolean(result.isMaxBuffer),
    output: String(result.all ?? ''),
    durationMs: Math.round(performance.now() - started),
  };
}
