import { UserError } from '../errors.ts';

export type SandboxKind = 'bwrap' | 'local';

export type Limits = { memoryMb: number; maxProcesses: number; maxOutputBytes: number; maxFileMb: number };

export const DEFAULT_LIMITS: Limits = Object.freeze({
  memoryMb: 2048,
  maxProcesses: 256,
  maxOutputBytes: 8 * 1024 * 1024,
  maxFileMb: 512,
});

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
};

export interface Workspace {
  /** Host path of the repository copy. */
  readonly dir: string;
  /** The repository's path as commands inside the sandbox see it. */
  readonly root: string;
  /** Sha of the single base commit. */
  readonly baseCommit: string;
  /** Runs `bash -c command` with cwd = root, a fresh process each call. */
  exec(command: string, options: ExecOptions): Promise<ExecResult>;
  /** Unified diff (git diff --binary, a/ b/ prefixes) of the tree against the base, new files included. */
  diff(): Promise<string>;
  destroy(): Promise<void>;
}

export type EnvironmentSpec = { repoDir: string; key: string; install?: string };

export type PreparedEnvironment = { key: string; baseDir: string; baseCommit: string };

export interface Sandbox {
  readonly kind: SandboxKind;
  createWorkspace(environment: PreparedEnvironment): Promise<Workspace>;
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
