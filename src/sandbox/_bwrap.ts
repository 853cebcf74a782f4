import { accessSync, constants, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { execa } from 'execa';
import type { Limits } from './_types.ts';

/** Where the workspace appears inside the sandbox. */
export const SANDBOX_ROOT = '/workspace/repo';
/** Where the harness's own Node directory appears inside the sandbox. */
const SANDBOX_NODE_DIR = '/opt/node/bin';
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

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
};

function isUnderUsr(path: string): boolean {
  return path === '/usr' || path.startsWith('/usr/');
}

/** The directory holding the harness's Node, as the sandbox sees it. */
export function sandboxNodeDir(): string {
  const host = dirname(process.execPath);
  return isUnderUsr(host) ? host : SANDBOX_NODE_DIR;
}

export function sandboxPath(nodeDir: string): string {
  return `${nodeDir}:${SYSTEM_PATH}`;
}

let systemMounts: string[] | undefined;

/** Read-only system: /usr, the merged-usr links (or directories) beside it, a minimal /etc. */
function systemArguments(): string[] {
  if (systemMounts) return systemMounts;
  const mounts = ['--ro-bind', '/usr', '/usr'];
  for (const top of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    try {
      const stat = lstatSync(top);
      if (stat.isSymbolicLink()) mounts.push('--symlink', readlinkSync(top), top);
      else if (stat.isDirectory()) mounts.push('--ro-bind', top, top);
    } catch {
      // Not on this system.
    }
  }
  const etc = [...ETC_ENTRIES];
  try {
    etc.push(...readdirSync('/etc').filter((name) => /^python3(\.\d+)?$/.test(name)));
  } catch {
    // No /etc to read: nothing to add.
  }
  for (const entry of etc) mounts.push('--ro-bind-try', `/etc/${entry}`, `/etc/${entry}`);
  systemMounts = mounts;
  return mounts;
}

/** Namespaces and privileges: no network (loopback included), own pids, no capabilities. */
const ISOLATION = [
  '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
  '--hostname', 'sandbox', '--die-with-parent', '--new-session', '--cap-drop', 'ALL',
];

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

/** The full bwrap argument list for one command. */
export function bwrapArguments(
  mounts: BwrapMounts,
  env: Record<string, string>,
  limits: Limits,
  command: string,
): string[] {
  const args = [...ISOLATION, ...systemArguments(), ...kernelFilesystems(limits)];
  const hostNodeDir = dirname(process.execPath);
  if (!isUnderUsr(hostNodeDir)) args.push('--ro-bind', hostNodeDir, SANDBOX_NODE_DIR);
  args.push('--bind', mounts.workspaceDir, SANDBOX_ROOT);
  for (const name of mounts.sharedDirs) {
    const source = join(mounts.baseDir, name);
    if (!mounts.overlaid) args.push('--ro-bind', source, `${SANDBOX_ROOT}/${name}`);
    // Installers write absolute paths (script shebangs): make the install-time path resolve too.
    args.push('--ro-bind', source, source);
  }
  args.push('--remount-ro', '/', '--chdir', SANDBOX_ROOT, '--clearenv');
  for (const [name, value] of Object.entries(env)) args.push('--setenv', name, value);
  args.push('--', ...commandArgv(command));
  return args;
}

/** `bash -c command`, never reading rc files (see wrapCommand). */
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

/** bwrap is on PATH and can start a sandbox with our namespaces on this machine. */
export function bwrapAvailable(): Promise<boolean> {
  availability ??= probe();
  return availability;
}

async function probe(): Promise<boolean> {
  const bwrap = locateBwrap();
  if (!bwrap || process.platform !== 'linux') return false;
  const scratch = await mkdtemp(join(tmpdir(), 'bench-bwrap-probe-'));
  try {
    const args = bwrapArguments(
      { workspaceDir: scratch, baseDir: scratch, sharedDirs: [] },
      { PATH: SYSTEM_PATH },
      { memoryMb: 64, maxProcesses: 16, maxOutputBytes: 1024, maxFileMb: 1 },
      'test -d /proc/self && test -w .',
    );
    const result = await execa(bwrap, args, { reject: false, timeout: 15_000, extendEnv: false, env: { PATH: SYSTEM_PATH } });
    return result.exitCode === 0;
  } catch {
    return false;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
