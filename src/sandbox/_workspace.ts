import { lstat, mkdir, rm, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { bwrapArguments, commandArgv, locateBwrap, SANDBOX_ROOT, sandboxNodeDir, sandboxPath } from './_bwrap.ts';
import { copyTree, removeTree } from './_tree.ts';
import { cgroupProcsFiles, createCgroup, killCgroup, removeCgroup } from './_cgroup.ts';
import { diffWorkTree } from './_git.ts';
import { runProcess, wrapCommand } from './_process.ts';
import { ulimitArguments } from './_rlimits.ts';
import { OUTPUT_HARD_CAP_FACTOR } from './_types.ts';
import type { ExecOptions, ExecResult, Limits, PreparedEnvironment, SandboxKind, Workspace } from './_types.ts';

export type WorkspaceLayout = {
  kind: SandboxKind;
  /** Private directory of this workspace: holds `repo` (the work tree), `git` (diff control) and `home`. */
  home: string;
  environment: PreparedEnvironment;
  sharedDirs: readonly string[];
  limits: Limits;
};

/** One attempt's copy of the base, and the commands run in it. */
export class SandboxWorkspace implements Workspace {
  readonly dir: string;
  readonly root: string;
  readonly baseCommit: string;
  #layout: WorkspaceLayout;
  #running = new Set<AbortController>();
  #destroyed: Promise<void> | undefined;

  constructor(layout: WorkspaceLayout) {
    this.#layout = layout;
    this.dir = join(layout.home, 'repo');
    this.root = layout.kind === 'bwrap' ? SANDBOX_ROOT : this.dir;
    this.baseCommit = layout.environment.baseCommit;
  }

  /** Copies the base into a fresh work tree (dependency directories excluded: they are shared). */
  static async create(layout: WorkspaceLayout): Promise<SandboxWorkspace> {
    const workspace = new SandboxWorkspace(layout);
    await copyTree(layout.environment.baseDir, workspace.dir, new Set(layout.sharedDirs));
    await workspace.#restoreMountPoints();
    return workspace;
  }

  async exec(command: string, options: ExecOptions): Promise<ExecResult> {
    this.#assertAlive();
    if (!(options.timeoutMs > 0)) throw new RangeError(`exec needs a positive timeoutMs, got ${options.timeoutMs}`);
    await this.#restoreMountPoints();
    const controller = new AbortController();
    this.#running.add(controller);
    try {
      return this.#layout.kind === 'bwrap'
        ? await this.#execBwrap(command, options, controller.signal)
        : await this.#execLocal(command, options, controller.signal);
    } finally {
      this.#running.delete(controller);
    }
  }

  async #execBwrap(command: string, options: ExecOptions, signal: AbortSignal): Promise<ExecResult> {
    const { limits, environment, sharedDirs } = this.#layout;
    const bwrap = locateBwrap();
    if (!bwrap) throw new Error('bwrap is no longer on PATH');
    const env = { ...sandboxEnv(sandboxNodeDir(), '/tmp'), ...options.env };
    const argv = [bwrap, ...bwrapArguments({ workspaceDir: this.dir, baseDir: environment.baseDir, sharedDirs }, env, limits, command)];
    return this.#run(argv, '/', { PATH: '/usr/bin:/bin' }, options, signal);
  }

  async #execLocal(command: string, options: ExecOptions, signal: AbortSignal): Promise<ExecResult> {
    const home = join(this.#layout.home, 'home');
    await mkdir(home, { recursive: true });
    const env = { ...sandboxEnv(dirname(process.execPath), home), ...options.env };
    return this.#run(commandArgv(command), this.dir, env, options, signal);
  }

  async #run(argv: string[], cwd: string, env: Record<string, string>, options: ExecOptions, signal: AbortSignal): Promise<ExecResult> {
    const { limits } = this.#layout;
    const cgroup = await createCgroup(limits);
    const ulimits = await ulimitArguments(limits, cgroup !== null);
    const wrapped = wrapCommand(argv, { cgroupProcs: cgroup ? cgroupProcsFiles(cgroup) : [], ulimits });
    try {
      return await runProcess({
        ...wrapped,
        cwd,
        env,
        timeoutMs: options.timeoutMs,
        ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
        ...(options.reportChannel ? { reportChannel: true } : {}),
        maxOutputBytes: limits.maxOutputBytes,
        hardCapBytes: limits.maxOutputBytes * OUTPUT_HARD_CAP_FACTOR,
        ...(cgroup ? { killExtra: () => killCgroup(cgroup) } : {}),
        signal,
      });
    } finally {
      // Members are gone once killCgroup returns; the kernel may hold the empty cgroup a few ms
      // longer, so it is removed in the background rather than on every command's clock.
      if (cgroup) {
        await killCgroup(cgroup);
        void removeCgroup(cgroup);
      }
    }
  }

  /**
   * Before each command: the work tree exists, and shared dependency directories are where they
   * belong (a real empty directory as bwrap's mount point, a symlink for local), whatever the last
   * command did to them.
   */
  async #restoreMountPoints(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const name of this.#layout.sharedDirs) {
      const path = join(this.dir, name);
      const found = await lstat(path).catch(() => undefined);
      if (this.#layout.kind === 'bwrap') {
        if (found?.isDirectory()) continue;
        if (found) await rm(path, { force: true });
        await mkdir(path);
      } else {
        if (found?.isSymbolicLink()) continue;
        if (found) await rm(path, { recursive: true, force: true });
        await symlink(join(this.#layout.environment.baseDir, name), path);
      }
    }
  }

  async diff(): Promise<string> {
    this.#assertAlive();
    await mkdir(this.dir, { recursive: true });
    return diffWorkTree({
      controlDir: join(this.#layout.home, 'git'),
      workTree: this.dir,
      baseDir: this.#layout.environment.baseDir,
      baseCommit: this.baseCommit,
    });
  }

  destroy(): Promise<void> {
    this.#destroyed ??= (async () => {
      for (const controller of this.#running) controller.abort();
      while (this.#running.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
      await removeTree(this.#layout.home);
    })();
    return this.#destroyed;
  }

  #assertAlive(): void {
    if (this.#destroyed) throw new Error(`workspace ${this.dir} was destroyed`);
  }
}

/** The only variables a command sees, besides the ones its caller passes. */
function sandboxEnv(nodeDir: string, home: string): Record<string, string> {
  return { PATH: sandboxPath(nodeDir), HOME: home, LANG: 'C.UTF-8', TZ: 'UTC', TERM: 'dumb' };
}
