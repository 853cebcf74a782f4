import { UserError } from '../errors.ts';

/** A backend's name in the sandbox registry (`src/sandbox/_registry.ts`). */
export type SandboxKind = string;

export type Limits = { memoryMb: number; maxProcesses: number; maxOutputBytes: number; maxFileMb: number };

export const DEFAULT_LIMITS: Limits = Object.freeze({
  memoryMb: 2048,
  maxProcesses: 256,
  maxOutputBytes: 8 * 1024 * 1024,
  maxFileMb: 512,
});

/** A process printing this many times `maxOutputBytes` is killed: we stop waiting for it to finish on its own. */
export const OUTPUT_HARD_CAP_FACTOR = 8;

export type ExecOptions = { timeoutMs: number; stdin?: string; env?: Record<string, string> };

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
