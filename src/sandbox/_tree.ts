import type { Dirent } from 'node:fs';
import { chmod, copyFile, lstat, mkdir, readdir, readlink, rm, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './_process.ts';

/**
 * Copies a directory tree: regular files (with their mode and modification time), directories, and symlinks as
 * links (never followed). Sockets, fifos and devices are not repository content and are skipped.
 * Top-level names in `skip` are left out.
 */
export async function copyTree(source: string, target: string, skip: ReadonlySet<string> = new Set()): Promise<void> {
  await mkdir(target, { recursive: true });
  const entries = await readdir(source, { withFileTypes: true });
  await Promise.all(
    entries.filter((entry) => !skip.has(entry.name)).map((entry) => copyEntry(entry, source, target)),
  );
}

async function copyEntry(entry: Dirent, sourceDir: string, targetDir: string): Promise<void> {
  const source = join(sourceDir, entry.name);
  const target = join(targetDir, entry.name);
  if (entry.isDirectory()) {
    await mkdir(target);
    const entries = await readdir(source, { withFileTypes: true });
    await Promise.all(entries.map((inner) => copyEntry(inner, source, target)));
  } else if (entry.isSymbolicLink()) {
    await symlink(await readlink(source), target);
  } else if (entry.isFile()) {
    await copyFile(source, target);
    // Its modification time too, as CP_TREE keeps it.
    const { atime, mtime } = await lstat(source);
    await utimes(target, atime, mtime);
  }
}

/**
 * copyTree in one `cp` process, for trees known to hold only files, directories and symlinks:
 * the same copy (modes kept, links copied as links) for a fraction of the harness's own time.
 * `entries` are the top-level names of `source` to copy.
 */
/**
 * `cp` as copyTree copies: recursive, links copied as links, modes kept; modification times kept
 * too, so a copy of a base matches the stat data its git index holds (see controlTemplate).
 */
export const CP_TREE = ['cp', '-R', '-P', '--preserve=mode,timestamps'] as const;

export async function copyTreeAtOnce(source: string, target: string, entries: readonly string[]): Promise<void> {
  await mkdir(target, { recursive: true });
  if (entries.length === 0) return;
  const copied = await runCommand(CP_TREE[0], [...CP_TREE.slice(1), '-t', target, '--', ...entries.map((name) => join(source, name))], {
    env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' },
  });
  if (copied.exitCode !== 0) throw new Error(`copying ${source} to ${target} failed (cp exit ${copied.exitCode ?? copied.signal}): ${copied.stderr.trim() || copied.message || ''}`);
}

/**
 * Removes a tree, also when a command made parts of it unwritable or unreadable (chmod 000):
 * those directories get their owner permissions back first. Symlinks are never followed.
 */
export async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true, maxRetries: 3 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw error;
    await restoreAccess(path);
    await rm(path, { recursive: true, force: true, maxRetries: 3 });
  }
}

async function restoreAccess(path: string): Promise<void> {
  const found = await lstat(path).catch(() => undefined);
  if (!found?.isDirectory()) return;
  await chmod(path, 0o700).catch(() => undefined);
  const entries = await readdir(path).catch(() => [] as string[]);
  await Promise.all(entries.map((name) => restoreAccess(join(path, name))));
}
