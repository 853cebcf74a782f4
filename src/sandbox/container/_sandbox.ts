import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { UserError } from '../../errors.ts';
import { resolveLimits } from '../_types.ts';
import type { EnvironmentTarget, Limits, PreparedEnvironment, Sandbox, Workspace } from '../_types.ts';
import { engine, engineError, locateEngine, missingEngineMessage, type Engine } from './_engine.ts';
import { imageFor, pullHint, readLayout, type ImageLayout } from './_images.ts';
import { ENVIRONMENT_LABEL, RUN_LABEL, ownerLabels } from './_labels.ts';
import { seccompProfilePath } from './_seccomp-profile.ts';
import { ContainerWorkspace } from './_workspace.ts';
import { loadExeca } from '../_process.ts';

export type ContainerOptions = {
  limits?: Partial<Limits>;
  /** `--image`: one image for every instance, `{instance_id}` filled in. */
  image?: string;
  /** Written on every container as bench.run, so `bench sandbox gc --run ID` finds them. */
  runLabel?: string;
  cpus?: number;
};

/** Fixed identity and date, as for host bases: the same content always gives the same base commit. */
const BASE_IDENTITY =
  'GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@localhost GIT_AUTHOR_DATE=2000-01-01T00:00:00+0000 ' +
  'GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@localhost GIT_COMMITTER_DATE=2000-01-01T00:00:00+0000';

/**
 * An image's repository reduced to one base commit: the files the old index tracked plus untracked
 * ones git does not ignore, committed into a fresh repository with no history, tags, remotes or hooks.
 */
const REDUCE_HISTORY = [
  'set -e',
  'export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null',
  'old=$(mktemp -d)',
  'git ls-files -z --cached --others --exclude-standard > "$old/files"',
  'mv .git "$old/git"',
  'git init -q --template= .',
  'git symbolic-ref HEAD refs/heads/main',
  'git config core.logAllRefUpdates false && git config gc.auto 0 && git config core.autocrlf false',
  'git update-index --add --remove -z --stdin < "$old/files"',
  `${BASE_IDENTITY} git -c core.hooksPath=/dev/null commit -q --no-verify --no-gpg-sign --allow-empty -m base`,
  'rm -rf "$old" .git/COMMIT_EDITMSG',
  'git rev-parse HEAD',
].join('\n');

/** Containers of this process still alive: removed on the way out, however the process ends. */
const live = new Map<string, Engine>();
let exitHookInstalled = false;

function track(e: Engine, id: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const [container, owner] of live) {
        try {
          execFileSync(owner.path, [...owner.globalArgs, 'rm', '-f', container], { stdio: 'ignore', timeout: 20_000 });
        } catch {
          // Left for `bench sandbox gc`.
        }
      }
    });
  }
  live.set(id, e);
}

/** Workspaces as containers of a Docker-compatible engine; `name` is the backend (`docker` or `podman`). */
export function createContainerSandbox(name: string, options: ContainerOptions = {}): Sandbox {
  const limits = resolveLimits(options.limits);
  const cpus = options.cpus ?? Math.min(2, availableParallelism());
  const layouts = new Map<string, Promise<ImageLayout>>();
  const archives = new Map<string, Promise<Uint8Array>>();
  let located: Engine | undefined;

  const engineOrThrow = (): Engine => {
    located ??= locateEngine(name) ?? undefined;
    if (!located) throw new UserError(missingEngineMessage(name));
    return located;
  };
  const layoutOf = (e: Engine, image: string, instanceId: string): Promise<ImageLayout> => {
    let layout = layouts.get(image);
    if (!layout) {
      layout = readLayout(e, image, instanceId);
      layouts.set(image, layout);
      layout.catch(() => layouts.delete(image));
    }
    return layout;
  };
  const archiveOf = (baseDir: string): Promise<Uint8Array> => {
    let archive = archives.get(baseDir);
    if (!archive) {
      archive = loadExeca().then((execa) => execa('tar', ['-C', baseDir, '-cf', '-', '.'], { encoding: 'buffer', maxBuffer: 2 ** 31 })).then((r) => r.stdout as Uint8Array);
      archives.set(baseDir, archive);
    }
    return archive;
  };

  return {
    kind: name,
    isolates: true,
    async prepare(target: EnvironmentTarget): Promise<PreparedEnvironment> {
      const e = engineOrThrow();
      const image = imageFor(target, options.image);
      const layout = await layoutOf(e, image, target.instanceId);
      // An image holding the repository is used as it is; a toolchain image gets the prepared base copied in.
      if (layout.holdsRepository) return { key: `${image}`, baseDir: '', baseCommit: '', image };
      const host = await target.host();
      return { ...host, image };
    },

    async createWorkspace(environment: PreparedEnvironment): Promise<Workspace> {
      const e = engineOrThrow();
      const image = environment.image;
      if (!image) throw new Error(`environment ${environment.key} was not prepared for containers`);
      const layout = await layoutOf(e, image, environment.key);
      const id = `bench-${randomBytes(8).toString('hex')}`;
      track(e, id);
      const remove = async () => {
        await engine(e, ['rm', '-f', id], { timeoutMs: 60_000 });
        live.delete(id);
      };
      const started = await engine(e, ['run', '-d', '--name', id, ...runFlags(limits, cpus, layout.root), ...ownerLabels(),
        ...(options.runLabel ? ['--label', `${RUN_LABEL}=${options.runLabel}`] : []), '--label', `${ENVIRONMENT_LABEL}=${environment.key}`,
        '--entrypoint', '/bin/bash', image, '--norc', '--noprofile', '-c', PID1]);
      if (started.exitCode !== 0) {
        await remove();
        throw engineError(
          `Starting a container from image ${image} (environment ${environment.key}) failed`,
          started,
          /ulimit|rlimit|cgroup|pids|memory|cpu|secur|capab|privilege/i.test(started.stderr)
            ? `The engine refused one of the sandbox's limits or security options (a rootless engine without cgroup delegation does): let it set them (for podman, run rootful or delegate the cpu, memory and pids controllers), or run with \`--sandbox bwrap\`.`
            : /no such image|image not known|not found|unable to find/i.test(started.stderr)
              ? pullHint(e.name, image)
              : `Check that \`${e.name} run --rm ${image} true\` works, or run with \`--sandbox bwrap\`.`,
        );
      }
      const workspace = new ContainerWorkspace({ engine: e, id, image, instance: environment.key, root: layout.root, conda: layout.conda, limits }, remove);
      try {
        if (layout.holdsRepository) {
          workspace.baseCommit = (await workspace.script(REDUCE_HISTORY, 'reducing the repository to its base commit')).trim().split('\n').at(-1)!;
        } else {
          const archive = await archiveOf(environment.baseDir);
          await workspace.script('mkdir -p . && tar --no-same-owner -xf -', 'copying the repository in', archive);
          workspace.baseCommit = environment.baseCommit;
        }
      } catch (error) {
        await workspace.destroy();
        throw error;
      }
      return workspace;
    },
  };
}

/** PID 1: sleeps, reaps orphans (so killed commands leave no zombies holding the pids limit), and stops at once on SIGTERM. */
const PID1 = "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done";

/**
 * Isolation and limits, set explicitly: no network, no capabilities, no privilege gain, the same
 * system calls refused as in bwrap (ptrace, keyrings, bpf, mounts, namespaces...), memory, CPU,
 * pids and rlimits.
 */
function runFlags(limits: Limits, cpus: number, root: string): string[] {
  const fileBytes = limits.maxFileMb * 1024 * 1024;
  return [
    '--network', 'none', '--hostname', 'sandbox', '--workdir', root,
    '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--security-opt', `seccomp=${seccompProfilePath()}`,
    '--memory', `${limits.memoryMb}m`, '--memory-swap', `${limits.memoryMb}m`, '--cpus', String(cpus),
    '--pids-limit', String(limits.maxProcesses),
    '--ulimit', 'nofile=1024:1024', '--ulimit', `nproc=4096:4096`, '--ulimit', `fsize=${fileBytes}:${fileBytes}`, '--ulimit', 'core=0:0',
  ];
}

/** Whether the backend's engine is installed and answers; the reason it cannot run otherwise. */
export async function containerUnavailable(name: string): Promise<string | null> {
  const e = locateEngine(name);
  if (!e) return missingEngineMessage(name);
  const version = await engine(e, ['version', '--format', '{{.Client.Version}}'], { timeoutMs: 30_000 });
  if (version.exitCode !== 0) {
    return `The container engine ${e.path} does not answer (\`${e.name} version\` failed: ${version.stderr.trim().slice(0, 300) || `exit ${version.exitCode}`}). Start its daemon or fix its set-up, or run with \`--sandbox bwrap\`.`;
  }
  return null;
}
