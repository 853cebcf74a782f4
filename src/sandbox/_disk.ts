import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { lstat, readdir, readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { runCommand, type CommandResult } from './_process.ts';
import { processHelper } from './_spawner.ts';
import { CP_TREE, copyTreeSync, SMALL_TREE } from './_tree.ts';
import type { Limits } from './_types.ts';

/**
 * Each workspace's private directory is a tmpfs of its own, limited in bytes and inodes, so
 * whatever is written for the workspace (its repository copy, overlay layers, the diff's index)
 * fills that and nothing else. Its size is the repository copy's own plus the limits, so any
 * repository fits and every workspace gets the same room to grow. Mounting needs root (or
 * CAP_SYS_ADMIN); without it the directory stays an ordinary one and only the per-file size
 * limit bounds the disk.
 */

/** What a tree takes on a tmpfs: whole pages per file, an inode per entry. */
export type TreeUsage = {
  bytes: number;
  inodes: number;
  /** Entries that are no file, directory or symlink (fifos, sockets, devices): a copy leaves them out. */
  special?: number;
};

const PAGE = 4096;

/** The usage of `dir` as a workspace copies it (top-level names in `skip` left out). */
export async function treeUsage(dir: string, skip: ReadonlySet<string>): Promise<TreeUsage> {
  const usage = { bytes: 0, inodes: 1, special: 0 };
  const walk = async (path: string, top: boolean): Promise<void> => {
    const entries = await readdir(path, { withFileTypes: true });
    await Promise.all(
      entries.map(async (entry) => {
        if (top && skip.has(entry.name)) return;
        usage.inodes++;
        const child = join(path, entry.name);
        if (entry.isDirectory()) return walk(child, false);
        if (entry.isFile()) usage.bytes += Math.ceil((await lstat(child)).size / PAGE) * PAGE;
        else if (!entry.isSymbolicLink()) usage.special++;
      }),
    );
  };
  await walk(dir, true);
  return usage;
}

const mounted = new Set<string>();
const MOUNT_SOURCE = 'bench-workspace';
const MOUNT_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' };
let exitHookInstalled = false;
let warned = false;
let mountable: boolean | undefined;

/** The mount options of a workspace's filesystem: room for the base copy plus the limits. */
export function diskOptions(limits: Limits, base: TreeUsage): string {
  return `${diskData(limits, base)},nosuid,nodev`;
}

/** diskOptions as mount(2) takes them: the tmpfs's own options (nosuid and nodev are flags). */
function diskData(limits: Limits, base: TreeUsage): string {
  const bytes = base.bytes + limits.diskMb * 1024 * 1024;
  return `size=${Math.ceil(bytes / PAGE) * PAGE},nr_inodes=${base.inodes + limits.maxInodes},mode=0700`;
}

const MS_NOSUID = 2;
const MS_NODEV = 4;
const MNT_DETACH = 2;

function mayMount(): boolean {
  return mountable !== false && process.platform === 'linux' && process.getuid?.() === 0;
}

/** The mount made by the process helper (no `mount` process): undefined when done, else the kernel's refusal. */
async function mountViaHelper(dir: string, limits: Limits, base: TreeUsage): Promise<string | undefined> {
  return processHelper()!.mount({ source: MOUNT_SOURCE, target: dir, type: 'tmpfs', flags: MS_NOSUID | MS_NODEV, data: diskData(limits, base) });
}

/** Mounts a bounded tmpfs on `dir` (an empty directory); false when mounts are not permitted here. */
export async function mountWorkspaceDisk(dir: string, limits: Limits, base: TreeUsage): Promise<boolean> {
  if (!mayMount()) return fallback();
  const refusal = processHelper()
    ? await mountViaHelper(dir, limits, base)
    : await runCommand('mount', ['-t', 'tmpfs', '-o', diskOptions(limits, base), MOUNT_SOURCE, dir], { env: MOUNT_ENV }).then((result) =>
      result.exitCode === 0 ? undefined : String(result.stderr).trim());
  if (refusal !== undefined) {
    mountable = false;
    return fallback(refusal);
  }
  mountable = true;
  track(dir);
  return true;
}

/** Exit status of the combined script when the mount itself failed (cp exits 0 or 1). */
const MOUNT_FAILED = 90;

type TreeCopy = { source: string; target: string; entries: readonly string[]; whole: boolean };

/**
 * mountWorkspaceDisk, then the base's top-level `entries` copied into `target` (see
 * copyTreeAtOnce) and `alsoCopy` copied whole: by the process helper, a mount and the copies side
 * by side; without it, one shell for all three. `mounted` false: nothing was mounted here (not
 * permitted), nothing copied either; the caller copies.
 */
export async function mountAndCopy(
  dir: string,
  limits: Limits,
  base: TreeUsage,
  copy: TreeCopy,
  /** One more folder copied whole (a git directory's template). */
  alsoCopy?: { source: string; target: string },
): Promise<{ mounted: boolean }> {
  if (!mayMount()) return { mounted: fallback() };
  if (processHelper()) {
    if (!(await mountWorkspaceDisk(dir, limits, base))) return { mounted: false };
    // A grading's small base: fewer system calls here than a `cp` costs the machine to start, which with every core
    // busy with tests is what grading pays. An agent's workspace (it comes with its git directory) is copied by `cp`
    // processes: there the harness's thread, turning model answers around, is the scarcer of the two.
    if (!alsoCopy && base.inodes <= SMALL_TREE.inodes && base.bytes <= SMALL_TREE.bytes) {
      copyTreeSync(copy.source, copy.target, copy.whole ? undefined : copy.entries);
      return { mounted: true };
    }
    const copied = await Promise.all([
      alsoCopy ? runCommand(CP_TREE[0], [...CP_TREE.slice(1), '-T', '--', alsoCopy.source, alsoCopy.target], { env: MOUNT_ENV }) : undefined,
      copyEntries(copy),
    ]);
    const failed = copied.find((result) => result !== undefined && result.exitCode !== 0);
    if (failed) throw copyFailure(copy, failed);
    return { mounted: true };
  }
  const cpTree = CP_TREE.join(' ');
  // The whole base (no shared folder left out) is one `cp -T`; otherwise the folder is made and the entries copied into it.
  const copying = copy.whole
    ? [`${cpTree} -T -- "$5" "$6"`, copy.source, copy.target]
    : [`mkdir -p -- "$5" || exit 1; target=$5; shift 5; [ "$#" -eq 0 ] || ${cpTree} -t "$target" -- "$@"`, copy.target, ...copy.entries.map((name) => join(copy.source, name))];
  const script = `mount -t tmpfs -o "$1" ${MOUNT_SOURCE} "$2" || exit ${MOUNT_FAILED}; [ -z "$3" ] || ${cpTree} -T -- "$3" "$4" || exit 1; ${copying[0]}`;
  const result = await runCommand('sh', ['-c', script, 'sh', diskOptions(limits, base), dir, alsoCopy?.source ?? '', alsoCopy?.target ?? '', ...copying.slice(1)], { env: MOUNT_ENV });
  if (result.exitCode === MOUNT_FAILED) {
    mountable = false;
    return { mounted: fallback(String(result.stderr).trim()) };
  }
  // Any other end came after the mount: the filesystem is there, to be unmounted with the workspace.
  if (result.exitCode !== undefined) {
    mountable = true;
    track(dir);
  }
  if (result.exitCode !== 0) throw copyFailure(copy, result);
  return { mounted: true };
}

/** The base's entries into the (new) target: one `cp -T` for the whole base, else the entries into the folder made for them. */
async function copyEntries(copy: TreeCopy): Promise<CommandResult | undefined> {
  if (copy.whole) return runCommand(CP_TREE[0], [...CP_TREE.slice(1), '-T', '--', copy.source, copy.target], { env: MOUNT_ENV });
  mkdirSync(copy.target, { recursive: true });
  if (copy.entries.length === 0) return undefined;
  return runCommand(CP_TREE[0], [...CP_TREE.slice(1), '-t', copy.target, '--', ...copy.entries.map((name) => join(copy.source, name))], { env: MOUNT_ENV });
}

function copyFailure(copy: TreeCopy, result: CommandResult): Error {
  return new Error(`copying ${copy.source} to ${copy.target} failed (exit ${result.exitCode ?? result.signal}): ${result.stderr.trim() || result.message || ''}`);
}

function fallback(why?: string): false {
  if (!warned) {
    warned = true;
    process.emitWarning(
      `Workspaces are ordinary directories: mounting a size-limited filesystem for each needs root${why ? ` (${why})` : ''}. ` +
        'Each file is still limited in size, but not a workspace\'s total bytes and files.',
      'BenchSandboxWarning',
    );
  }
  return false;
}

// A harness that exits without destroying its workspaces must not leave their mounts behind.
function track(dir: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const path of mounted) spawnSync('umount', ['-l', path], { stdio: 'ignore' });
    });
  }
  mounted.add(dir);
}

/** Unmounts the workspace's filesystem (freeing all it held at once), lazily if still busy. */
export async function unmountWorkspaceDisk(dir: string): Promise<void> {
  if (!mounted.has(dir)) return;
  const helper = processHelper();
  if (helper) {
    if ((await helper.unmount(dir)) !== undefined) await helper.unmount(dir, MNT_DETACH);
  } else {
    const result = await runCommand('umount', [dir], { env: MOUNT_ENV });
    if (result.exitCode !== 0) await runCommand('umount', ['-l', dir], { env: MOUNT_ENV });
  }
  mounted.delete(dir);
}

/**
 * Unmounts the filesystems of workspaces whose harness process died without destroying them
 * (killed with SIGKILL), wherever they are: ours are tmpfs mounts named `bench-workspace` on a
 * directory `ws-<pid>-...`.
 */
export async function removeStaleDisks(): Promise<void> {
  const table = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  for (const line of table.split('\n')) {
    const [fields, filesystem] = line.split(' - ');
    const point = fields?.split(' ')[4];
    const [type, source] = filesystem?.split(' ') ?? [];
    if (!point || type !== 'tmpfs' || source !== MOUNT_SOURCE) continue;
    const path = point.replace(/\\(\d{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    const owner = /^ws-(\d+)-/.exec(basename(path))?.[1];
    if (owner === undefined || owner === String(process.pid) || alive(Number(owner))) continue;
    await runCommand('umount', ['-l', path], { env: MOUNT_ENV });
    await rm(path, { recursive: true, force: true }).catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
