import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { bench, PROJECT_ROOT } from '../../helpers/cli.ts';
import { Store } from '../../../src/store/index.ts';
import type { EvaluationSummary } from '../../../src/results/index.ts';

export const BUILTIN_DIR = join(PROJECT_ROOT, 'tasks', 'builtin');
export const DATASETS_DIR = join(PROJECT_ROOT, 'test', 'fixtures', 'datasets');

/** Everything one test file writes: results, cache, workspaces; nothing lands in the project's results/. */
export type Scratch = {
  dir: string;
  /** BENCH_RESULTS_DIR, BENCH_CACHE_DIR and TMPDIR (so sandbox workspaces live here too). */
  env: Record<string, string>;
  cleanup: () => Promise<void>;
};

export async function scratch(prefix: string): Promise<Scratch> {
  const dir = await mkdtemp(join(tmpdir(), `bench-e2e-${prefix}-`));
  await mkdir(join(dir, 'tmp'));
  return {
    dir,
    env: { BENCH_RESULTS_DIR: dir, BENCH_CACHE_DIR: join(dir, 'cache'), TMPDIR: join(dir, 'tmp') },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** `bench eval --json` prints this summary (SWE-bench's names plus ours). */
export type EvalSummary = EvaluationSummary;

/** Runs `bench eval --json` with the scratch's environment; the summary is parsed when stdout holds one. */
export async function evaluate(
  where: Scratch,
  args: string[],
  options: { db: string; env?: Record<string, string>; timeout?: number },
) {
  const result = await bench(['eval', '--db', options.db, '-j', '2', '--json', ...args], {
    env: { ...where.env, ...options.env },
    timeout: options.timeout,
  });
  let summary: EvalSummary | undefined;
  try {
    summary = JSON.parse(result.stdout) as EvalSummary;
  } catch {
    summary = undefined;
  }
  return { ...result, summary };
}

/** The stored attempt (outcome plus our grade fields) as `bench show --json` prints it. */
export type ShownAttempt = {
  instanceId: string;
  outcome: string;
  resolved: boolean;
  resolution: string | null;
  error: string | null;
  grade: {
    outcome: string;
    applyMethod?: string;
    revertedFiles: string[];
    tests: Record<string, string>;
    testsStatus?: Record<string, { success: string[]; failure: string[] }>;
    trustworthy?: boolean;
    untrustworthyReason?: string;
    tamperReason?: string;
    reportSource?: string;
    canaries?: Record<string, string>;
    flags?: string[];
    testExitCode?: number | null;
    testMs?: number;
    error?: string;
  };
};

export async function showAttempt(where: Scratch, db: string, runId: string, instanceId: string, model: string): Promise<ShownAttempt> {
  const result = await bench(['show', runId, instanceId, model, '--db', db, '--json'], { env: where.env });
  if (result.exitCode !== 0) throw new Error(`bench show failed (${result.exitCode}): ${result.stderr}`);
  return JSON.parse(result.stdout) as ShownAttempt;
}

/** The same attempt read straight from the database file, without a CLI start per instance. */
export function storedAttempt(db: string, runId: string, instanceId: string, model: string): ShownAttempt {
  const store = Store.open(db, { readonly: true });
  try {
    const attempt = store.attemptFor(runId, instanceId, model);
    if (!attempt) throw new Error(`no attempt for ${instanceId} / ${model} in run ${runId} of ${db}`);
    return attempt as unknown as ShownAttempt;
  } finally {
    store.close();
  }
}

/** A built-in instance's own files: instance.json fields, gold patch and test patch. */
export async function builtinInstance(id: string) {
  const folder = join(BUILTIN_DIR, 'instances', id);
  const fields = JSON.parse(await readFile(join(folder, 'instance.json'), 'utf8')) as Record<string, unknown> & {
    instance_id: string;
    repo: string;
    FAIL_TO_PASS: string[];
    PASS_TO_PASS: string[];
    test_cmd: string;
    log_parser: string;
  };
  return {
    fields,
    patch: await readFile(join(folder, 'gold.patch'), 'utf8'),
    testPatch: await readFile(join(folder, 'test.patch'), 'utf8'),
    problem: await readFile(join(folder, 'problem.md'), 'utf8'),
  };
}

export type PredictionRow = { instance_id: string; model_name_or_path?: string; model_patch: string | null };

export async function writeJsonl(path: string, rows: PredictionRow[]): Promise<string> {
  await writeFile(path, rows.map((row) => JSON.stringify({ model_name_or_path: 'e2e-model', ...row })).join('\n') + '\n');
  return path;
}

/**
 * A small suite folder holding copies of built-in instances (and their repositories), each
 * instance.json passed through `edit` first: how a test changes a timeout or a test list.
 */
export async function copySuite(
  dir: string,
  ids: string[],
  edit: (fields: Record<string, unknown>) => void = () => {},
): Promise<string> {
  await mkdir(join(dir, 'instances'), { recursive: true });
  await writeFile(join(dir, 'suite.json'), `${JSON.stringify({ name: 'e2e-copy', version: 1 })}\n`);
  for (const id of ids) {
    const target = join(dir, 'instances', id);
    await cp(join(BUILTIN_DIR, 'instances', id), target, { recursive: true });
    const fields = JSON.parse(await readFile(join(target, 'instance.json'), 'utf8')) as Record<string, unknown>;
    edit(fields);
    await writeFile(join(target, 'instance.json'), `${JSON.stringify(fields, null, 2)}\n`);
    const repo = String(fields.repo).replace('/', '__');
    await cp(join(BUILTIN_DIR, 'repos', repo), join(dir, 'repos', repo), { recursive: true, force: false });
  }
  return dir;
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'e2e', GIT_AUTHOR_EMAIL: 'e2e@example.invalid', GIT_COMMITTER_NAME: 'e2e', GIT_COMMITTER_EMAIL: 'e2e@example.invalid',
  GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null',
};

export function git(cwd: string, ...args: string[]) {
  return execa('git', args, { cwd, env: GIT_ENV });
}

/** A built-in repository copied to `dir` as a one-commit git repository; returns the commit's sha. */
export async function gitCopyOf(repo: string, dir: string): Promise<string> {
  await cp(join(BUILTIN_DIR, 'repos', repo), dir, { recursive: true });
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-qm', 'base');
  return (await git(dir, 'rev-parse', 'HEAD')).stdout.trim();
}

/**
 * The unified diff (new files and symlinks included) that `edit` makes to a git copy; the copy is
 * put back to its commit afterwards, ready for the next patch.
 */
export async function diffOf(repoDir: string, edit: (root: string) => Promise<void>): Promise<string> {
  try {
    await edit(repoDir);
    await git(repoDir, 'add', '-A');
    const { stdout } = await git(repoDir, 'diff', '--cached', '--binary');
    if (!stdout.trim()) throw new Error('the edit changed nothing, so there is no patch to grade');
    return `${stdout}\n`;
  } finally {
    await git(repoDir, 'reset', '-q', '--hard');
    await git(repoDir, 'clean', '-fdqx');
  }
}

/** Puts `text` at the top of a file of the copy. */
export async function prepend(path: string, text: string): Promise<void> {
  await writeFile(path, text + (await readFile(path, 'utf8')));
}

export async function append(path: string, text: string): Promise<void> {
  await writeFile(path, (await readFile(path, 'utf8')) + text);
}
