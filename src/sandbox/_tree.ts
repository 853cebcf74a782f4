import type { BigIntStats, Dirent } from 'node:fs';
import { chmodSync, copyFileSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, utimesSync } from 'node:fs';
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
 * `cp` as copyTree copies: recursive, links copied as links, modes kept; modification times kept
 * too, so a copy of a base matches the stat data its git index holds (see controlTemplate).
 */
export const CP_TREE = ['cp', '-R', '-P', '--preserve=mode,timestamps'] as const;

/**
 * A grading's base copied by copyTreeSync rather than by a `cp` process: at most this many entries
 * and bytes (as treeUsage counts them). A few hundred system calls take about a millisecond of this
 * process; a `cp` costs a few milliseconds of the machine's CPU (start-up mostly), whatever it copies.
 */
export const SMALL_TREE = { inodes: 256, bytes: 4 * 1024 * 1024 } as const;

/**
 * CP_TREE's copy in this process, for small trees (SMALL_TREE): files with their mode and times,
 * folders with theirs (set once their contents are in), links as links with their times, nothing
 * followed. Entries of another kind (a fifo, a socket) are left out, as copyTree leaves them.
 * With `entries` (top-level names of `source`), those go into `target`, made if missing (`cp -t`);
 * without, `target` is made as a copy of `source` itself (`cp -T`). Errors name the path and say
 * what the system said, as cp would ("No space left on device (ENOSPC): ...").
 */
export function copyTreeSync(source: string, target: string, entries?: readonly string[]): void {
  // Folders are written while open to us, and given their own mode and times after their contents.
  const folders: [string, BigIntStats][] = [];
  const copyEntry = (path: string, copy: string) => {
    // Its times as they were before it was read.
    const stat = lstatSync(path, { bigint: true });
    if (stat.isDirectory()) {
      mkdirSync(copy, { mode: 0o700 });
      for (const name of readdirSync(path)) copyEntry(join(path, name), join(copy, name));
      folders.push([copy, stat]);
    } else if (stat.isSymbolicLink()) {
      symlinkSync(readlinkSync(path), copy);
      lutimesSync(copy, seconds(stat.atimeNs), seconds(stat.mtimeNs));
    } else if (stat.isFile()) {
      copyFileSync(path, copy);
      chmodSync(copy, Number(stat.mode & 0o7777n));
      utimesSync(copy, seconds(stat.atimeNs), seconds(stat.mtimeNs));
    }
  };
  try {
    if (entries) {
      mkdirSync(target, { recursive: true });
      for (const name of entries) copyEntry(join(source, name), join(target, name));
    } else copyEntry(source, target);
    for (const [folder, stat] of folders) {
      chmodSync(folder, Number(stat.mode & 0o7777n));
      utimesSync(folder, seconds(stat.atimeNs), seconds(stat.mtimeNs));
    }
  } catch (error) {
    throw new Error(`copying ${source} to ${target} failed: ${systemWords(error as NodeJS.ErrnoException)}`);
  }
}

/** A time in seconds to the microsecond, truncated: never rounded up into the next whole second, which git compares. */
function seconds(ns: bigint): number {
  return Number(ns / 1000n) / 1e6;
}

/** What the system said, as cp says it: "No space left on device (ENOSPC): open '/path'". */
function systemWords(error: NodeJS.ErrnoException): string {
  const match = /^[A-Z0-9]+: ([^,]+), (.*)$/.exec(error.message);
  if (!match || !error.code) return error.message;
  return `${match[1]![0]!.toUpperCase()}${match[1]!.slice(1)} (${error.code}): ${match[2]}`;
}

/**
 * copyTree in one `cp` process, for trees known to hold only files, directories and symlinks:
 * the same copy (modes kept, links copied as links) for a fraction of the harness's own time.
 * `entries` are the top-level names of `source` to copy.
 */
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
