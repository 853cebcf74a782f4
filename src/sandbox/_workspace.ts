import { lstatSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rm, rmdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { bwrapArguments, checkHostDevices, commandArgv, GRADING_GIT_ROOT, GRADING_OBJECTS_ROOT, locateBwrap, SANDBOX_ROOT, sandboxNodeDir, sandboxPath } from './_bwrap.ts';
import { copyTree, copyTreeAtOnce, removeTree } from './_tree.ts';
import { overlayArgv, overlayAvailable } from './_overlay.ts';
import { BACKGROUND_GRACE_MS, cgroupProcsFiles, cgroupRefusal, createCgroup, foreground, fullWeight, killCgroup, removeCgroup } from './_cgroup.ts';
import { mountAndCopy, mountWorkspaceDisk, unmountWorkspaceDisk } from './_disk.ts';
import type { TreeUsage } from './_disk.ts';
import { applyToWorkTree, baseFiles, diffWorkTree, writeControlDir } from './_git.ts';
import { runProcess } from './_process.ts';
import { commandRlimits } from './_rlimits.ts';
import { openSeccompDescriptor } from './_seccomp.ts';
import { DIFF_TIMEOUT_MS, OUTPUT_HARD_CAP_FACTOR } from './_types.ts';
import type { ExecOptions, ExecResult, Limits, PreparedEnvironment, SandboxKind, Workspace, WorkspaceDiff } from './_types.ts';

/** The seccomp program's descriptor as bwrap receives it (the first after stdin, stdout, stderr). */
const SECCOMP_FD = 3;

export type WorkspaceLayout = {
  kind: SandboxKind;
  /** Private directory of this workspace: holds `repo` (the work tree), `git` (diff control) and `home`. */
  home: string;
  environment: PreparedEnvironment;
  sharedDirs: readonly string[];
  limits: Limits;
  /** Host paths of the harness that no command may see. */
  hiddenPaths: readonly string[];
  /** What the base's copy takes: the workspace's disk is this plus the limits. */
  baseUsage: TreeUsage;
  /** The base's top-level names to copy when the base holds nothing but files, directories and symlinks (one `cp` copies it). */
  copied?: readonly string[];
  /** The template of the workspace's git directory, copied with the base (see controlTemplate) when the workspace will diff. */
  controlTemplate?: string;
};

/** One attempt's copy of the base, and the commands run in it. */
export class SandboxWorkspace implements Workspace {
  readonly dir: string;
  readonly root: string;
  readonly baseCommit: string;
  readonly contentKey: string;
  readonly reportChannel = true;
  #layout: WorkspaceLayout;
  #running = new Set<AbortController>();
  #destroyed: Promise<void> | undefined;
  /** The base's copy in place (see begin). */
  #ready: Promise<void> = Promise.resolve();
  /** Host path of the grading git directory, once made (see gradingGit). */
  #gradingGit: string | undefined;

  constructor(layout: WorkspaceLayout) {
    this.#layout = layout;
    this.dir = join(layout.home, 'repo');
    this.root = layout.kind === 'bwrap' ? SANDBOX_ROOT : this.dir;
    this.baseCommit = layout.environment.baseCommit;
    this.contentKey = `${layout.kind}\0${layout.environment.key}\0${layout.environment.baseDir}\0${layout.environment.baseCommit}`;
  }

  /**
   * Gives the private directory its own bounded filesystem where mounts are permitted, then
   * copies the base into a fresh work tree (dependency directories excluded: they are shared).
   */
  static async create(layout: WorkspaceLayout): Promise<SandboxWorkspace> {
    const workspace = SandboxWorkspace.begin(layout);
    await workspace.#ready;
    return workspace;
  }

  /** The workspace at once, its files made meanwhile: every method waits for them, and fails as making them failed. */
  static begin(layout: WorkspaceLayout): SandboxWorkspace {
    const workspace = new SandboxWorkspace(layout);
    workspace.#ready = (async () => {
      await workspace.#makeFiles();
      await workspace.#restoreMountPoints();
    })();
    workspace.#ready.catch(() => {});
    return workspace;
  }

  /** The bounded disk and the base's copy: one process for both when the base holds only files, directories and symlinks. */
  async #makeFiles(): Promise<void> {
    const { home, limits, baseUsage, environment, copied, sharedDirs, controlTemplate } = this.#layout;
    if (!copied) {
      await mountWorkspaceDisk(home, limits, baseUsage);
      await copyTree(environment.baseDir, this.dir, new Set(sharedDirs));
      return;
    }
    const copy = { source: environment.baseDir, target: this.dir, entries: copied, whole: sharedDirs.length === 0 };
    const control = controlTemplate ? { source: controlTemplate, target: join(home, 'git') } : undefined;
    if ((await mountAndCopy(home, limits, baseUsage, copy, control)).mounted) return;
    await copyTreeAtOnce(environment.baseDir, this.dir, copied);
  }

  async exec(command: string, options: ExecOptions): Promise<ExecResult> {
    await this.#usable();
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
    const { limits, environment, sharedDirs, hiddenPaths } = this.#layout;
    const bwrap = locateBwrap();
    if (!bwrap) throw new Error('bwrap is no longer on PATH');
    checkHostDevices();
    const env = { ...sandboxEnv(sandboxNodeDir(hiddenPaths), '/tmp'), ...options.env };
    // The report channel comes after the seccomp descriptor; inside, the command finds it on 3 as promised.
    if (options.reportChannel) command = `exec 3>&${SECCOMP_FD + 1} ${SECCOMP_FD + 1}>&-\n${command}`;
    const mounts = { workspaceDir: this.dir, baseDir: environment.baseDir, sharedDirs, ...(this.#gradingGit ? { gradingGit: this.#gradingGit } : {}) };
    const bwrapOptions = { seccompFd: SECCOMP_FD, hiddenPaths };
    // Shared dependencies copy-on-write when overlayfs can be mounted, read-only binds otherwise.
    const overlay = sharedDirs.length > 0 && (await overlayAvailable())
      ? await overlayArgv(
        { home: this.#layout.home, workTree: this.dir, baseDir: environment.baseDir, sharedDirs },
        [bwrap, ...bwrapArguments({ ...mounts, overlaid: true }, env, limits, command, bwrapOptions)],
      )
      : undefined;
    const argv = overlay ?? [bwrap, ...bwrapArguments(mounts, env, limits, command, bwrapOptions)];
    const seccomp = openSeccompDescriptor();
    try {
      return await this.#run(argv, '/', { PATH: '/usr/bin:/bin' }, options, signal, [seccomp.fd]);
    } finally {
      seccomp.close();
    }
  }

  async #execLocal(command: string, options: ExecOptions, signal: AbortSignal): Promise<ExecResult> {
    const home = join(this.#layout.home, 'home');
    await mkdir(home, { recursive: true });
    const env = { ...sandboxEnv(dirname(process.execPath), home), ...options.env };
    return this.#run(commandArgv(command), this.dir, env, options, signal);
  }

  async #run(
    argv: string[],
    cwd: string,
    env: Record<string, string>,
    options: ExecOptions,
    signal: AbortSignal,
    extraFds: number[] = [],
  ): Promise<ExecResult> {
    const { limits } = this.#layout;
    // A gated command (a grading's setup) prepares in the background until its gate opens.
    const cgroup = await createCgroup(limits, { background: Boolean(options.gate) });
    const graceOver = cgroup?.cpuDir ? setTimeout(() => fullWeight(cgroup), BACKGROUND_GRACE_MS).unref() : undefined;
    const gate = options.gate && cgroup?.cpuDir
      ? { ...options.gate, open: async () => { clearTimeout(graceOver); await options.gate!.open(); foreground(cgroup); } }
      : options.gate;
    const confinement = { cgroupProcs: cgroup ? cgroupProcsFiles(cgroup) : [], rlimits: await commandRlimits(limits, cgroup !== null) };
    let emptied = false;
    try {
      const result = await runProcess({
        file: argv[0]!,
        args: argv.slice(1),
        confinement,
        cwd,
        env,
        timeoutMs: options.timeoutMs,
        ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
        ...(options.reportChannel ? { reportChannel: true } : {}),
        ...(gate ? { gate } : {}),
        maxOutputBytes: limits.maxOutputBytes,
        hardCapBytes: limits.maxOutputBytes * OUTPUT_HARD_CAP_FACTOR,
        ...(cgroup ? { killExtra: () => killCgroup(cgroup) } : {}),
        signal,
        extraFds,
      });
      // runProcess returns once killExtra has emptied the cgroup.
      emptied = true;
      // Asked only of a command that failed: a success needs no explaining, and most commands succeed.
      const refused = cgroup && result.exitCode !== 0 ? cgroupRefusal(cgroup) : undefined;
      return refused ? { ...result, resourceRefused: refused } : result;
    } finally {
      clearTimeout(graceOver);
      // Members are gone once killCgroup returns; the kernel may hold the empty cgroup a few ms
      // longer, so it is removed in the background rather than on every command's clock.
      if (cgroup) {
        if (!emptied) await killCgroup(cgroup);
        void removeCgroup(cgroup, { emptied: true });
      }
    }
  }

  /**
   * Before each command: the work tree exists, and shared dependency directories are where they
   * belong (a real empty directory as bwrap's mount point, a symlink for local), whatever the last
   * command did to them.
   */
  async #restoreMountPoints(): Promise<void> {
    // Synchronous: metadata calls on the workspace's own tmpfs cost less than the thread pool's round trip.
    mkdirSync(this.dir, { recursive: true });
    for (const name of this.#layout.sharedDirs) {
      const path = join(this.dir, name);
      const found = lstatSync(path, { throwIfNoEntry: false });
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

  async diff(): Promise<WorkspaceDiff> {
    await this.#usable();
    mkdirSync(this.dir, { recursive: true });
    return diffWorkTree({
      controlDir: join(this.#layout.home, 'git'),
      workTree: this.dir,
      baseDir: this.#layout.environment.baseDir,
      baseCommit: this.baseCommit,
      maxBytes: this.#layout.limits.maxDiffMb * 1024 * 1024,
      timeoutMs: DIFF_TIMEOUT_MS,
    });
  }

  async gradingGit(files: Record<string, string>): Promise<string> {
    await this.#usable();
    const dir = join(this.#layout.home, 'grading-git');
    // Made afresh if asked again.
    rmSync(dir, { recursive: true, force: true });
    const bwrap = this.#layout.kind === 'bwrap';
    await writeControlDir(this.#layout.environment, dir, {
      HEAD: `${this.baseCommit}\n`,
      // Inside bwrap the base's objects are bound at a path of their own, never at their host path.
      ...(bwrap ? { 'objects/info/alternates': `${GRADING_OBJECTS_ROOT}\n` } : {}),
    });
    mkdirSync(join(dir, 'grading'));
    for (const [name, text] of Object.entries(files)) {
      // A name may hold a folder (the report channel's files): made inside `grading`, never above it.
      if (name.split('/').some((part) => part === '' || part === '.' || part === '..')) throw new Error(`gradingGit: bad file name ${JSON.stringify(name)}`);
      if (name.includes('/')) mkdirSync(join(dir, 'grading', dirname(name)), { recursive: true });
      writeFileSync(join(dir, 'grading', name), text);
    }
    this.#gradingGit = dir;
    return bwrap ? GRADING_GIT_ROOT : dir;
  }

  async baseFiles(): Promise<readonly string[]> {
    return [...(await baseFiles(this.#layout.environment)).keys()];
  }

  async applyPatch(patch: string, options: { recount?: boolean; timeoutMs: number }): Promise<ExecResult> {
    await this.#usable();
    mkdirSync(this.dir, { recursive: true });
    const { environment } = this.#layout;
    return applyToWorkTree({ controlDir: join(this.#layout.home, 'git'), workTree: this.dir, baseDir: environment.baseDir, baseCommit: this.baseCommit }, patch, options);
  }

  /** The work tree itself: edits are already real. */
  async checkout(): Promise<{ dir: string; commit: (paths: string[]) => Promise<void> }> {
    await this.#usable();
    return { dir: this.dir, commit: async () => {} };
  }

  destroy(): Promise<void> {
    this.#destroyed ??= (async () => {
      await this.#ready.catch(() => {});
      for (const controller of this.#running) controller.abort();
      while (this.#running.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
      await unmountWorkspaceDisk(this.#layout.home);
      // Unmounted, the private directory is empty: one call removes it (through the thread pool: after an unmount the
      // kernel keeps it about a millisecond, asleep, which would hold the harness's thread). Otherwise the tree goes.
      try {
        await rmdir(this.#layout.home);
      } catch {
        await removeTree(this.#layout.home);
      }
    })();
    return this.#destroyed;
  }

  /** Not destroyed, its files in place (an early workspace's copy awaited). */
  async #usable(): Promise<void> {
    this.#assertAlive();
    await this.#ready;
    this.#assertAlive();
  }

  #assertAlive(): void {
    if (this.#destroyed) throw new Error(`workspace ${this.dir} was destroyed`);
  }
}

/**
 * The variables a sandboxed command sees, with the harness's Node directory as the host names it:
 * for running a command outside any sandbox with the same interpreters (benchmark baselines).
 */
export function commandEnv(home: string): Record<string, string> {
  return sandboxEnv(dirname(process.execPath), home);
}

/** The only variables a command sees, besides the ones its caller passes. */
function sandboxEnv(nodeDir: string, home: string): Record<string, string> {
  return { PATH: sandboxPath(nodeDir), HOME: home, LANG: 'C.UTF-8', TZ: 'UTC', TERM: 'dumb' };
}
