import { accessSync, constants, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, realpathSync, rmSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { emptyFile, privateDir } from './_private.ts';
import { openSeccompDescriptor } from './_seccomp.ts';
import { DEFAULT_LIMITS } from './_types.ts';
import type { Limits } from './_types.ts';
import { loadExeca } from './_process.ts';

/** Where the workspace appears inside the sandbox. */
export const SANDBOX_ROOT = '/workspace/repo';
/** Where a grading's git directory appears inside the sandbox (see Workspace.gradingGit). */
export const GRADING_GIT_ROOT = '/workspace/grading-git';
/** Where the base's objects, which that git directory borrows, appear inside the sandbox (read-only). */
export const GRADING_OBJECTS_ROOT = '/workspace/base-objects';
/** Where the harness's own Node directory appears inside the sandbox. */
const SANDBOX_NODE_DIR = '/opt/node/bin';
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The pieces of /etc that bash, git, python3 and node need; nothing else of the host's /etc is visible. */
const ETC_ENTRIES = [
  'passwd', 'group', 'hosts', 'nsswitch.conf', 'host.conf', 'ld.so.cache', 'ld.so.conf', 'ld.so.conf.d',
  'localtime', 'alternatives', 'protocols', 'services', 'os-release', 'debian_version', 'ssl/openssl.cnf',
];

export type BwrapMounts = {
  /** Host directory bound read-write at SANDBOX_ROOT. */
  workspaceDir: string;
  /** Host base repository whose dependency directories are shared. */
  baseDir: string;
  sharedDirs: readonly string[];
  /** The shared folders are already overlay mounts inside workspaceDir (see _overlay.ts): no read-only bind over them. */
  overlaid?: boolean;
  /** Host directory of a grading's git directory, bound read-write at GRADING_GIT_ROOT, with the base's objects it borrows read-only. */
  gradingGit?: string;
};

export type BwrapOptions = {
  /** Descriptor (in bwrap's own numbering) holding the compiled seccomp program. */
  seccompFd?: number;
  /** Host paths of the harness (checkout, task files, results, caches) never visible inside. */
  hiddenPaths?: readonly string[];
};

/**
 * The parts of /usr (and of /usr/local) a runner needs; anything else there (/usr/src, a
 * checkout placed under /usr) stays out.
 */
const SYSTEM_TREES: readonly (readonly [string, readonly string[]])[] = [
  ['/usr', ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32', 'libexec', 'include', 'share', 'local']],
  ['/usr/local', ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libexec', 'include', 'share']],
];
const TOP_LINKS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

function isInside(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

type SystemMounts = {
  args: string[];
  /** Host paths whose contents show through the binds... */
  sources: string[];
  /** ...except these, covered by an empty filesystem. */
  covered: string[];
  /** The system trees runners need (/usr/bin, /usr/local/lib, ...): a hidden path holding one is not covered. */
  needed: string[];
  /** The private copy of the /etc entries, made once per private directory. */
  etc: string;
};
let systemMounts: SystemMounts | undefined;

/**
 * Read-only system: /usr in one bind, whatever of it runners do not need covered; the merged-usr
 * links (or directories) beside it; an /etc holding only the entries runners need, copied once
 * into our private directory and bound as one. Every bind costs bwrap a read of the whole mount
 * table, so one bind of /usr and one of /etc start a sandbox in about half the time of a bind per
 * entry (about 30 of them).
 */
function systemArguments(): SystemMounts {
  // Asked several times per sandbox start: one stat while the copy stands (a private directory made again holds none).
  if (systemMounts && existsSync(systemMounts.etc)) return systemMounts;
  const etcCopy = join(privateDir(), 'etc');
  const args: string[] = [];
  const sources: string[] = [];
  const covered: string[] = [];
  const needed: string[] = [];
  const bindEntry = (path: string) => {
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (stat?.isSymbolicLink()) args.push('--symlink', readlinkSync(path), path);
    else if (stat?.isDirectory()) {
      args.push('--ro-bind', path, path);
      sources.push(path);
    }
  };
  // Entries runners do not need get an empty filesystem over them (a file: our empty file).
  const coverOthers = (root: string, wanted: readonly string[]) => {
    needed.push(...wanted.map((name) => join(root, name)));
    for (const entry of readdirSync(root, { withFileTypes: true })) {
      if (wanted.includes(entry.name)) continue;
      const path = join(root, entry.name);
      // A link shows only what its target shows: a covered entry, or something outside the binds.
      if (entry.isDirectory()) args.push('--perms', '0555', '--size', '4096', '--tmpfs', path);
      else if (!entry.isSymbolicLink()) args.push('--ro-bind', emptyFile(), path);
      else continue;
      covered.push(path);
    }
  };
  const [usr, local] = SYSTEM_TREES;
  if (lstatSync(usr![0], { throwIfNoEntry: false })?.isDirectory()) {
    bindEntry(usr![0]);
    coverOthers(usr![0], usr![1]);
    const found = lstatSync(local![0], { throwIfNoEntry: false });
    if (found?.isDirectory()) coverOthers(local![0], local![1]);
    else if (found?.isSymbolicLink()) {
      // /usr/local leads elsewhere: its target bound too (where it is not inside /usr already), its other entries covered.
      const target = realpathSync(local![0]);
      if (!isInside(target, usr![0]) && statSync(target).isDirectory()) bindEntry(target);
      if (statSync(target).isDirectory()) coverOthers(target, local![1]);
    }
  } else {
    // /usr is a link (or missing): the needed entries one by one, wherever they lead.
    for (const [root, children] of SYSTEM_TREES) for (const child of children) if (child !== 'local') bindEntry(`${root}/${child}`);
    for (const [root, children] of SYSTEM_TREES) needed.push(...children.map((name) => join(root, name)));
  }
  for (const top of TOP_LINKS) bindEntry(top);
  const etc = [...ETC_ENTRIES];
  try {
    etc.push(...readdirSync('/etc').filter((name) => /^python3(\.\d+)?$/.test(name)));
  } catch {
    // No /etc to read: nothing to add.
  }
  copyEtcEntries(etc, etcCopy);
  args.push('--ro-bind', etcCopy, '/etc');
  sources.push(...etc.map((entry) => `/etc/${entry}`));
  systemMounts = { args, sources, covered, needed, etc: etcCopy };
  return systemMounts;
}

/**
 * The /etc entries copied into `target`: a file (or a link to one) as its content, a directory
 * with its links kept as links (/etc/alternatives points into /usr), as the host has them when the
 * first sandbox of the process starts. Entries the host lacks, or that cannot be read or copied
 * (a socket, say), are left out, as bwrap's --ro-bind-try would.
 */
function copyEtcEntries(entries: readonly string[], target: string): void {
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { mode: 0o755 });
  for (const entry of entries) {
    const source = `/etc/${entry}`;
    const copy = join(target, entry);
    try {
      const stat = statSync(source, { throwIfNoEntry: false });
      if (!stat) continue;
      mkdirSync(dirname(copy), { recursive: true, mode: 0o755 });
      const copiable = (path: string) => {
        const found = lstatSync(path);
        return !found.isSocket() && !found.isFIFO();
      };
      if (stat.isDirectory()) cpSync(realpathSync(source), copy, { recursive: true, verbatimSymlinks: true, filter: copiable });
      else if (stat.isFile()) copyFileSync(source, copy);
    } catch {
      rmSync(copy, { recursive: true, force: true });
    }
  }
}

/** Whether a host path shows through one of the system binds. */
function visibleThroughSystem(path: string): boolean {
  const { sources, covered } = systemArguments();
  return sources.some((source) => isInside(path, source)) && !covered.some((cover) => isInside(path, cover));
}

/**
 * Covers every hidden path that lies inside a system bind: an empty read-only tmpfs over a
 * directory, an empty private file over a file. A path holding a whole system tree (a results
 * folder at `/`) shows nothing of its own through the binds, so there is nothing to cover.
 */
function hidingArguments(hiddenPaths: readonly string[]): { cover: string[]; seal: string[] } {
  const cover: string[] = [];
  const seal: string[] = [];
  const { sources, needed } = systemArguments();
  for (const path of [...new Set(hiddenPaths)].sort()) {
    if ([...sources, ...needed].some((source) => isInside(source, path))) continue;
    if (!visibleThroughSystem(path)) continue;
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      continue;
    }
    if (stat.isDirectory()) {
      cover.push('--tmpfs', path);
      // Sealed last: the prepared environment's own directories may still be bound inside it.
      seal.push('--remount-ro', path);
    } else cover.push('--ro-bind', emptyFile(), path);
  }
  return { cover, seal };
}

/** Namespaces and privileges: no network (loopback included), own pids, no capabilities. */
const ISOLATION = [
  '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
  '--hostname', 'sandbox', '--die-with-parent', '--new-session', '--cap-drop', 'ALL',
];

/** The devices `--dev` binds from the host, as [major, minor]: anything else would be shared between sandboxes. */
const HOST_DEVICES: Readonly<Record<string, readonly [number, number]>> = {
  '/dev/null': [1, 3], '/dev/zero': [1, 5], '/dev/full': [1, 7], '/dev/random': [1, 8], '/dev/urandom': [1, 9], '/dev/tty': [5, 0],
};

/** Throws when a host device bwrap's `--dev` binds in is not the character device it should be. */
export function checkHostDevices(): void {
  for (const [path, [major, minor]] of Object.entries(HOST_DEVICES)) {
    let stat;
    try {
      stat = lstatSync(path);
    } catch {
      continue;
    }
    const found = [Math.floor(stat.rdev / 256) & 0xfff, stat.rdev & 0xff];
    if (!stat.isCharacterDevice() || found[0] !== major || found[1] !== minor) {
      throw new Error(
        `The host's ${path} is not the ${major}:${minor} character device, so the sandbox would share it as a file; ` +
          `restore it (as root: rm ${path} && mknod -m 666 ${path} c ${major} ${minor}).`,
      );
    }
  }
}

function kernelFilesystems(limits: Limits): string[] {
  const tmpBytes = String(limits.memoryMb * 1024 * 1024);
  const shmBytes = String(Math.max(64, Math.floor(limits.memoryMb / 4)) * 1024 * 1024);
  return [
    '--proc', '/proc',
    // bwrap leaves /proc/sys writable when the sandbox runs as uid 0 without capabilities.
    '--ro-bind', '/proc/sys', '/proc/sys',
    '--ro-bind-try', '/proc/sysrq-trigger', '/proc/sysrq-trigger',
    '--dev', '/dev',
    '--size', shmBytes, '--tmpfs', '/dev/shm',
    '--remount-ro', '/dev',
    '--size', tmpBytes, '--tmpfs', '/tmp',
  ];
}

/** The directory holding the harness's Node, as the sandbox sees it. */
export function sandboxNodeDir(hiddenPaths: readonly string[] = []): string {
  const host = dirname(process.execPath);
  const hidden = hiddenPaths.some((path) => isInside(host, path));
  return visibleThroughSystem(host) && !hidden ? host : SANDBOX_NODE_DIR;
}

export function sandboxPath(nodeDir: string): string {
  return `${nodeDir}:${SYSTEM_PATH}`;
}

/** The full bwrap argument list for one command. */
export function bwrapArguments(
  mounts: BwrapMounts,
  env: Record<string, string>,
  limits: Limits,
  command: string,
  options: BwrapOptions = {},
): string[] {
  const hiddenPaths = options.hiddenPaths ?? [];
  const hiding = hidingArguments(hiddenPaths);
  const args = [...ISOLATION, ...systemArguments().args, ...hiding.cover, ...kernelFilesystems(limits)];
  const nodeDir = sandboxNodeDir(hiddenPaths);
  if (nodeDir === SANDBOX_NODE_DIR) args.push('--ro-bind', dirname(process.execPath), SANDBOX_NODE_DIR);
  args.push('--bind', mounts.workspaceDir, SANDBOX_ROOT);
  if (mounts.gradingGit) {
    args.push('--bind', mounts.gradingGit, GRADING_GIT_ROOT, '--ro-bind', join(mounts.baseDir, '.git', 'objects'), GRADING_OBJECTS_ROOT);
  }
  for (const name of mounts.sharedDirs) {
    const source = join(mounts.baseDir, name);
    if (!mounts.overlaid) args.push('--ro-bind', source, `${SANDBOX_ROOT}/${name}`);
    // Installers write absolute paths (script shebangs): make the install-time path resolve too.
    args.push('--ro-bind', source, source);
  }
  args.push(...hiding.seal, '--remount-ro', '/', '--chdir', SANDBOX_ROOT, '--clearenv');
  for (const [name, value] of Object.entries(env)) args.push('--setenv', name, value);
  if (options.seccompFd !== undefined) args.push('--seccomp', String(options.seccompFd));
  args.push('--', ...commandArgv(command));
  return args;
}

/** `bash -c command`, never reading rc files (bash sources ~/.bashrc when its stdin is a socket, even with -c). */
export function commandArgv(command: string): string[] {
  return ['/bin/bash', '--norc', '--noprofile', '-c', command];
}

let located: string | null | undefined;

/** Absolute path of bwrap on PATH, or null. */
export function locateBwrap(): string | null {
  if (located !== undefined) return located;
  located = null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'bwrap');
    try {
      accessSync(candidate, constants.X_OK);
      located = candidate;
      break;
    } catch {
      // Not here.
    }
  }
  return located;
}

let availability: Promise<boolean> | undefined;

/** How often a failed start is tried again before bwrap counts as unusable here, and the pause before each. */
const PROBE_RETRY_MS = [250, 1000];

/**
 * bwrap is on PATH and can start a sandbox with our namespaces on this machine. Asked once per
 * process; a start that failed for a moment (a fork or memory refused, a slow start past the
 * timeout, as on a loaded machine) is tried again first; a refusal (no user namespaces, say) is final.
 */
export function bwrapAvailable(): Promise<boolean> {
  availability ??= (async () => {
    const bwrap = locateBwrap();
    if (!bwrap || process.platform !== 'linux') return false;
    for (const pause of [0, ...PROBE_RETRY_MS]) {
      if (pause) await new Promise((resolve) => setTimeout(resolve, pause));
      const outcome = await probe(bwrap);
      if (outcome === 'works') return true;
      // Namespaces refused, a filter the kernel will not load: asking again gives the same answer.
      if (outcome === 'refused') return false;
    }
    return false;
  })();
  return availability;
}

/** What starts bwrap can fail on for a moment under load: a timeout, a fork or memory refused. */
const TRANSIENT_START_FAILURE = /Resource temporarily unavailable|Cannot allocate memory|EAGAIN|ENOMEM|fork/i;

async function probe(bwrap: string): Promise<'works' | 'transient' | 'refused'> {
  const scratch = await mkdtemp(join(tmpdir(), 'bench-bwrap-probe-'));
  // The filter is part of the sandbox: a kernel that cannot load it has no sandbox here.
  const seccomp = openSeccompDescriptor();
  try {
    const args = bwrapArguments(
      { workspaceDir: scratch, baseDir: scratch, sharedDirs: [] },
      { PATH: SYSTEM_PATH },
      { ...DEFAULT_LIMITS, memoryMb: 64, maxProcesses: 16, maxOutputBytes: 1024, maxFileMb: 1 },
      'test -d /proc/self && test -w .',
      { seccompFd: 3 },
    );
    const result = await (await loadExeca())(bwrap, args, {
      reject: false, timeout: 15_000, extendEnv: false, env: { PATH: SYSTEM_PATH },
      stdio: ['ignore', 'pipe', 'pipe', seccomp.fd] as ['ignore', 'pipe', 'pipe', 3],
    });
    if (result.exitCode === 0) return 'works';
    return result.timedOut || TRANSIENT_START_FAILURE.test(`${String(result.stderr)} ${result.message ?? ''}`) ? 'transient' : 'refused';
  } catch (error) {
    return TRANSIENT_START_FAILURE.test(String((error as Error).message)) ? 'transient' : 'refused';
  } finally {
    seccomp.close();
    await rm(scratch, { recursive: true, force: true });
  }
}
