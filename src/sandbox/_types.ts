import { UserError } from '../errors.ts';

/** A backend's name in the sandbox registry (`src/sandbox/_registry.ts`). */
export type SandboxKind = string;

/**
 * What every sandbox backend promises (bwrap here; a container backend maps the same numbers
 * onto its own flags): memory and processes per command, captured output, one file's size, the
 * workspace's disk in bytes and inodes, and how large an agent's changes may be to become a patch.
 */
export type Limits = {
  memoryMb: number;
  maxProcesses: number;
  maxOutputBytes: number;
  maxFileMb: number;
  /** Everything writable for one workspace: its repository copy, overlay layers, the diff's index. */
  diskMb: number;
  /** Files and directories in that space. */
  maxInodes: number;
  /** New, changed and deleted files together, in bytes of content; more makes the workspace `oversized`. */
  maxDiffMb: number;
};

export const DEFAULT_LIMITS: Limits = Object.freeze({
  memoryMb: 2048,
  maxProcesses: 256,
  maxOutputBytes: 8 * 1024 * 1024,
  maxFileMb: 512,
  diskMb: 2048,
  maxInodes: 50_000,
  maxDiffMb: 16,
});

/** How long computing an agent's diff may take before the workspace counts as `oversized`. */
export const DIFF_TIMEOUT_MS = 120_000;

/**
 * System calls no sandboxed command may make, whatever the backend (a container backend turns
 * this list into its seccomp profile): other processes' memory and descriptors, the kernel
 * keyring (shared with the host, outliving the sandbox), kernel attack surface, mounts and
 * namespaces, the machine's own settings. `clone` creating namespaces is refused as well.
 */
export const DENIED_SYSCALL_NAMES: readonly string[] = Object.freeze([
  'ptrace', 'process_vm_readv', 'process_vm_writev', 'process_madvise', 'pidfd_getfd', 'kcmp', 'move_pages',
  'add_key', 'request_key', 'keyctl',
  'bpf', 'perf_event_open', 'userfaultfd', 'io_uring_setup', 'io_uring_enter', 'io_uring_register',
  'mount', 'umount2', 'pivot_root', 'chroot', 'open_tree', 'move_mount', 'fsopen', 'fsconfig', 'fsmount', 'fspick',
  'mount_setattr', 'unshare', 'setns', 'name_to_handle_at', 'open_by_handle_at', 'fanotify_init',
  'init_module', 'finit_module', 'delete_module', 'create_module', 'get_kernel_syms', 'query_module', 'kexec_load',
  'kexec_file_load', 'reboot', 'swapon', 'swapoff', 'acct', 'quotactl', 'quotactl_fd', 'syslog', 'settimeofday',
  'clock_settime', 'clock_adjtime', 'vhangup', 'lookup_dcookie', 'nfsservctl', 'uselib', 'ustat', 'sysfs', '_sysctl',
  'ioperm', 'iopl',
]);

/** Only these descriptors reach a sandboxed command. */
export const INHERITED_FDS: readonly number[] = Object.freeze([0, 1, 2]);

/** A process printing this many times `maxOutputBytes` is killed: we stop waiting for it to finish on its own. */
export const OUTPUT_HARD_CAP_FACTOR = 8;

export type ExecOptions = {
  timeoutMs: number;
  stdin?: string;
  env?: Record<string, string>;
  /**
   * Opens a report channel: file descriptor 3 of the command is a socket whose other end only the
   * harness holds (a socket cannot be reopened through /proc/PID/fd, unlike a pipe or a file);
   * what is written to it comes back as `report`. Nothing else the command starts inherits it
   * unless the command passes it on.
   */
  reportChannel?: boolean;
  /**
   * Holds the command at a point of its own choosing: once the line `marker` appears in its output,
   * `open` is awaited (the wall-time clock stopped meanwhile), then one line is written to the
   * command's stdin (after `stdin`, if given), which it reads to go on.
   */
  gate?: ExecGate;
};

export type ExecGate = {
  marker: string;
  open: () => Promise<void>;
  /** Once the gate opens, the command has this long (rather than what is left of ExecOptions.timeoutMs). */
  timeoutMs?: number;
  /** Told as soon as the command's process exits, before its output is gathered and its sandbox cleaned up. */
  exited?: () => void;
};

export type ExecResult = {
  exitCode: number | null;
  signal: string | null;
  /** Wall time exceeded: the whole process tree was killed. */
  timedOut: boolean;
  /** Output exceeded maxOutputBytes: head and tail kept, the process killed at the hard cap. */
  outputLimited: boolean;
  /** stdout and stderr merged in order. */
  output: string;
  durationMs: number;
  /** What the command wrote to its report channel (only with `reportChannel`), within maxOutputBytes. */
  report?: string;
  /** The report channel exceeded maxOutputBytes: `report` holds its head and tail only. */
  reportLimited?: boolean;
  /** The command failed, and a resource limit of the sandbox had refused it something (a process, memory) while it ran. */
  resourceRefused?: 'processes' | 'memory';
};

export interface Workspace {
  /** Host path of the repository copy; empty when there is none on the host (a container's: see `checkout()`). */
  readonly dir: string;
  /** The repository's path as commands inside the sandbox see it. */
  readonly root: string;
  /** Sha of the single base commit. */
  readonly baseCommit: string;
  /**
   * Names the content the workspace starts with: workspaces with one key start with the same
   * files, so what is read from a fresh one (the files a patch agent ranks) may be shared. Absent
   * when the backend cannot tell.
   */
  readonly contentKey?: string;
  /** Whether `exec` honours `reportChannel` (grading then reads the runner's report from it, not from the output). */
  readonly reportChannel: boolean;
  /** Runs `bash -c command` with cwd = root, a fresh process each call. */
  exec(command: string, options: ExecOptions): Promise<ExecResult>;
  /**
   * `git apply --whitespace=nowarn [--recount] -` of a patch on the work tree, without starting a
   * sandbox (git reads none of the workspace's own `.git`); backends that cannot do it safely leave
   * it out and the patch is applied with `exec`.
   */
  applyPatch?(patch: string, options: { recount?: boolean; timeoutMs: number }): Promise<ExecResult>;
  /**
   * A git directory of the harness's own for grading, outside the work tree: the base commit as
   * its HEAD and index, objects read from the harness's base, `files` written into its `grading`
   * folder (a name may hold folders, never `..`). Every later `exec` sees it at the returned path
   * (as commands see it), so a grading script needs neither to move the workspace's `.git` away
   * nor to read its patches from stdin.
   * Backends without a base on the host leave it out.
   */
  gradingGit?(files: Record<string, string>): Promise<string>;
  /**
   * Unified diff (git diff --binary, a/ b/ prefixes) of the tree against the base, new files
   * included; bounded by `maxDiffMb` and DIFF_TIMEOUT_MS, beyond which it is `oversized`.
   */
  diff(): Promise<WorkspaceDiff>;
  /**
   * The base commit's file paths, read on the host from the harness's own copy of the base
   * (nothing a command did to the workspace's `.git` can change them); backends that hold no
   * base on the host leave it out, and the list is asked of `git ls-tree` inside the workspace.
   */
  baseFiles?(): Promise<readonly string[]>;
  /**
   * The repository's files as a host folder to read and edit: a host workspace gives its own work tree;
   * a container workspace a fresh copy, whose edits `commit(paths)` writes back into the container.
   */
  checkout(): Promise<HostView>;
  destroy(): Promise<void>;
}

/** An agent's changes: the patch, or why the workspace was too large to make one. */
export type WorkspaceDiff = { ok: true; patch: string } | { ok: false; reason: 'oversized'; message: string };

export type HostView = {
  dir: string;
  /** Makes the edits (or removals) of these repository-relative paths real in the workspace. */
  commit(paths: string[]): Promise<void>;
};

export type EnvironmentSpec = { repoDir: string; key: string; install?: string };

export type PreparedEnvironment = {
  key: string;
  /** Host folder of the prepared base; empty when the backend's image already holds the repository. */
  baseDir: string;
  /** Sha of the base commit; empty when it is made inside each workspace (an image holding the repository). */
  baseCommit: string;
  /** The container image the workspaces start from, for container backends. */
  image?: string;
};

/** What a backend needs to prepare an instance's environment. */
export type EnvironmentTarget = {
  instanceId: string;
  /** The instance's own `image` field. */
  image?: string;
  /** A row of a SWE-bench dataset: without an image of its own, SWE-bench's image naming applies. */
  swebench: boolean;
  /** The repository prepared as a host folder (copy, install, single base commit); called only when needed. */
  host: () => Promise<PreparedEnvironment>;
};

export interface Sandbox {
  readonly kind: SandboxKind;
  /** Whether commands are isolated from the host (no network, no host files, limits). */
  readonly isolates: boolean;
  /** Once per instance: a host folder for bwrap and local, an image (and, when it lacks one, a repository) for containers. */
  prepare(target: EnvironmentTarget): Promise<PreparedEnvironment>;
  /**
   * A fresh workspace from the prepared base. With `early`, a backend may return before the
   * workspace's files are in place (they are made while the caller does other work, such as a
   * model call): every method then waits for them and fails as making them failed, and the
   * caller must destroy() it in any case.
   */
  createWorkspace(environment: PreparedEnvironment, options?: { early?: boolean }): Promise<Workspace>;
}

/** Defaults filled in; every limit must be a positive whole number. */
export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const name of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const value = overrides[name];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value <= 0) {
      throw new UserError(
        `Sandbox limit \`${name}\` must be a positive whole number, got ${JSON.stringify(value)}. ` +
          `Fix the sandbox limits you pass (defaults: ${JSON.stringify(DEFAULT_LIMITS)}).`,
      );
    }
    limits[name] = value;
  }
  return limits;
}
