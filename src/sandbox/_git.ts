import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';

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

/** Git isolated from the host's system and user configuration. */
function gitEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: '/nonexistent',
    XDG_CONFIG_HOME: '/nonexistent',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    LANG: 'C',
    LC_ALL: 'C',
    TZ: 'UTC',
    ...extra,
  };
}

async function git(args: string[], cwd: string, env: Record<string, string>, allowedExitCodes = [0]): Promise<string> {
  const result = await execa('git', args, {
    cwd,
    env,
    extendEnv: false,
    reject: false,
    stripFinalNewline: false,
    maxBuffer: 1024 * 1024 * 1024,
  });
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
  await git(['-c', 'core.hooksPath=/dev/null', 'commit', '-q', '--no-verify', '--no-gpg-sign', '--allow-empty', '-m', 'base'], dir, env);
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
};

/**
 * Diff of the work tree against the base commit, untracked files included. It uses its own
 * git directory and index so nothing a command wrote into the workspace's `.git` (hooks,
 * fsmonitor, filters, a moved HEAD) can change the result or run on the host.
 */
export async function diffWorkTree(target: DiffTarget): Promise<string> {
  await ensureControlDir(target);
  const env = gitEnv({
    GIT_DIR: target.controlDir,
    GIT_WORK_TREE: target.workTree,
    GIT_INDEX_FILE: join(target.controlDir, 'index'),
  });
  const safe = ['-c', 'core.fsmonitor=false', '-c', 'core.hooksPath=/dev/null'];
  // --ignore-errors: an unreadable or special file must not hide every other change (exit 128 is a real failure).
  await git([...safe, 'add', '-A', '--ignore-errors'], target.workTree, env, [0, 1]);
  return git(
    [
      ...safe, 'diff', '--cached', '--binary', '--no-color', '--no-ext-diff', '--no-textconv', '--no-renames',
      '--src-prefix=a/', '--dst-prefix=b/', target.baseCommit, '--',
    ],
    target.workTree,
    env,
  );
}

async function ensureControlDir(target: DiffTarget): Promise<void> {
  const { controlDir } = target;
  try {
    await access(join(controlDir, 'index'));
    return;
  } catch {
    // First diff of this workspace: build the control directory.
  }
  await mkdir(join(controlDir, 'objects', 'info'), { recursive: true });
  await mkdir(join(controlDir, 'refs', 'heads'), { recursive: true });
  await mkdir(join(controlDir, 'info'), { recursive: true });
  await writeFile(join(controlDir, 'HEAD'), `ref: refs/heads/${BASE_BRANCH}\n`);
  await writeFile(join(controlDir, 'config'), '[core]\n\trepositoryformatversion = 0\n\tbare = false\n');
  await writeFile(join(controlDir, 'objects', 'info', 'alternates'), `${join(target.baseDir, '.git', 'objects')}\n`);
  const baseExclude = await readFile(join(target.baseDir, '.git', 'info', 'exclude'), 'utf8').catch(() => '');
  await writeFile(join(controlDir, 'info', 'exclude'), `${baseExclude}${CACHE_PATTERNS.join('\n')}\n`);
  const env = gitEnv({ GIT_DIR: controlDir, GIT_INDEX_FILE: join(controlDir, 'index') });
  await git(['read-tree', target.baseCommit], controlDir, env);
}
