import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../errors.ts';
import { commandArgv } from './_bwrap.ts';
import { copyTree } from './_tree.ts';
import { commitBase } from './_git.ts';
import { runProcess } from './_process.ts';
import type { EnvironmentSpec, PreparedEnvironment } from './_types.ts';

const MANIFEST = 'environment.json';
const MANIFEST_FORMAT = 1;
const INSTALL_TIMEOUT_MS = 60 * 60 * 1000;
const INSTALL_OUTPUT_BYTES = 1024 * 1024;
/** Parent variables an install command never sees: credentials of the harness itself. */
const SECRET_NAME = /KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION|^LLM_/i;

type Manifest = {
  format: number;
  key: string;
  install: string | null;
  baseCommit: string;
  /** Top-level directories the install created: shared read-only, never copied per workspace. */
  sharedDirs: string[];
};

const inFlight = new Map<string, Promise<PreparedEnvironment>>();

/**
 * Once per repository + environment key: copy, run `install` (network allowed), make the single
 * base commit; cached under cacheDir. Concurrent calls for the same key share one preparation.
 */
export function prepareEnvironment(spec: EnvironmentSpec, options: { cacheDir: string }): Promise<PreparedEnvironment> {
  const entry = join(resolve(options.cacheDir), entryName(spec));
  let pending = inFlight.get(entry);
  if (!pending) {
    pending = prepare(spec, entry).finally(() => inFlight.delete(entry));
    inFlight.set(entry, pending);
  }
  return pending;
}

/** Readable and collision-free: the key's characters plus a hash of key and install command. */
function entryName(spec: EnvironmentSpec): string {
  const slug = spec.key.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[-.]+/, '').slice(0, 60);
  const hash = createHash('sha256').update(`${spec.key}\0${spec.install ?? ''}`).digest('hex').slice(0, 12);
  return `${slug || 'env'}-${hash}`;
}

async function prepare(spec: EnvironmentSpec, entry: string): Promise<PreparedEnvironment> {
  const ready = await readManifest(entry, spec.key);
  if (ready) return ready;
  await checkRepoDir(spec.repoDir);
  await mkdir(dirname(entry), { recursive: true });
  const release = await acquireLock(`${entry}.lock`, () => readManifest(entry, spec.key));
  if (typeof release !== 'function') return release;
  try {
    const again = await readManifest(entry, spec.key);
    if (again) return again;
    return await build(spec, entry);
  } finally {
    await release();
  }
}

async function checkRepoDir(repoDir: string): Promise<void> {
  const found = await stat(repoDir).catch(() => undefined);
  if (!found?.isDirectory()) {
    throw new UserError(
      `The repository directory ${repoDir} ${found ? 'is not a directory' : 'does not exist'}. ` +
        'Point the environment at a checkout of the task repository at its base commit.',
    );
  }
}

// Built in place (not in a temp dir): installers write absolute paths, which must stay valid.
async function build(spec: EnvironmentSpec, entry: string): Promise<PreparedEnvironment> {
  const baseDir = join(entry, 'repo');
  await rm(entry, { recursive: true, force: true });
  try {
    await copyTree(resolve(spec.repoDir), baseDir, new Set(['.git']));
    const before = new Set(await readdir(baseDir));
    if (spec.install) await install(spec, baseDir);
    const sharedDirs = (await readdir(baseDir, { withFileTypes: true }))
      .filter((dirent) => dirent.isDirectory() && !before.has(dirent.name) && dirent.name !== '.git')
      .map((dirent) => dirent.name)
      .sort();
    const baseCommit = await commitBase(baseDir, sharedDirs);
    const manifest: Manifest = { format: MANIFEST_FORMAT, key: spec.key, install: spec.install ?? null, baseCommit, sharedDirs };
    const temporary = join(entry, `${MANIFEST}.${process.pid}.tmp`);
    await writeFile(temporary, `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(temporary, join(entry, MANIFEST));
    return { key: spec.key, baseDir, baseCommit };
  } catch (error) {
    await rm(entry, { recursive: true, force: true });
    throw error;
  }
}

async function install(spec: EnvironmentSpec, baseDir: string): Promise<void> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !SECRET_NAME.test(name)) env[name] = value;
  }
  env.PATH = `${dirname(process.execPath)}:${env.PATH ?? '/usr/bin:/bin'}`;
  const [file, ...args] = commandArgv(spec.install!);
  const result = await runProcess({
    file: file!,
    args,
    cwd: baseDir,
    env,
    timeoutMs: INSTALL_TIMEOUT_MS,
    maxOutputBytes: INSTALL_OUTPUT_BYTES,
    hardCapBytes: Number.POSITIVE_INFINITY,
  });
  if (result.exitCode === 0) return;
  const how = result.timedOut ? `timed out after ${INSTALL_TIMEOUT_MS / 60_000} minutes` : `exited with code ${result.exitCode ?? result.signal}`;
  const tail = result.output.split('\n').slice(-30).join('\n');
  throw new UserError(
    `Preparing environment "${spec.key}" failed: its install command \`${spec.install}\` ${how} ` +
      `(run in a copy of ${spec.repoDir}). Fix the install command or the repository so that it succeeds there; ` +
      'its last output is below.',
    { details: tail ? [tail] : [] },
  );
}

/** The lock's release function, or the environment another process finished while we waited. */
async function acquireLock(
  lockPath: string,
  finished: () => Promise<PreparedEnvironment | null>,
): Promise<(() => Promise<void>) | PreparedEnvironment> {
  const owner = `${process.pid}@${hostname()}`;
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      await handle.writeFile(owner);
      await handle.close();
      return () => unlink(lockPath).catch(() => undefined);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const done = await finished();
    if (done) return done;
    const holder = await readFile(lockPath, 'utf8').catch(() => '');
    if (holder && lockIsStale(holder)) {
      // Renaming first means only one waiter removes a given stale lock.
      const moved = `${lockPath}.stale-${process.pid}`;
      await rename(lockPath, moved).then(() => unlink(moved), () => undefined);
      continue;
    }
    await sleep(200);
  }
}

function lockIsStale(holder: string): boolean {
  const [pid, host] = holder.split('@');
  if (host !== hostname() || !pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function readManifest(entry: string, key: string): Promise<PreparedEnvironment | null> {
  const manifest = loadManifest(entry);
  if (!manifest || manifest.key !== key) return null;
  return { key, baseDir: join(entry, 'repo'), baseCommit: manifest.baseCommit };
}

/** The entry's manifest, read synchronously: a small file read on every grading, where the thread pool's round trip costs more. */
function loadManifest(entry: string): Manifest | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(join(entry, MANIFEST), 'utf8'));
  } catch {
    return null;
  }
  const manifest = parsed as Partial<Manifest>;
  if (
    manifest.format !== MANIFEST_FORMAT ||
    typeof manifest.key !== 'string' ||
    typeof manifest.baseCommit !== 'string' ||
    !Array.isArray(manifest.sharedDirs)
  ) {
    return null;
  }
  return manifest as Manifest;
}

/** Dependency directories to share into workspaces of this base (none for a base we did not prepare). */
export async function sharedDirsOf(environment: PreparedEnvironment): Promise<string[]> {
  if (!environment.baseDir) return [];
  const manifest = loadManifest(dirname(environment.baseDir));
  if (!manifest || manifest.baseCommit !== environment.baseCommit) return [];
  return manifest.sharedDirs;
}
