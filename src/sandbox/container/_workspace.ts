import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandArgv } from '../_bwrap.ts';
import { runProcess } from '../_process.ts';
import { OUTPUT_HARD_CAP_FACTOR } from '../_types.ts';
import type { ExecOptions, ExecResult, HostView, Limits, Workspace, WorkspaceDiff } from '../_types.ts';
import { CONDA_ACTIVATE } from './_images.ts';
import { engine, engineSays, type Engine } from './_engine.ts';
import { loadExeca } from '../_process.ts';

/** Caches test runs leave behind; never part of a patch (as in host workspaces). */
const CACHE_PATTERNS = ['__pycache__/', '*.py[co]', '.pytest_cache/', '.mypy_cache/', '.ruff_cache/', '.hypothesis/'];
const DIFF_TIMEOUT_MS = 300_000;
/** Exit codes after which we look whether the container itself is still there. */
const SUSPECT_EXITS = new Set([125, 126, 137]);
/** How long a timed-out command's kill keeps trying to get an exec into a container at its pids limit. */
const KILL_RETRY_MS = 10_000;
/**
 * SIGKILL to every process but the container's first and this shell, again while one is still
 * found, for at most 5 s: a fork that raced a pass leaves a child it never saw, and a killed
 * process holds its place under the pids limit until the container's first process reaps it (a
 * signal to it still succeeds until then). Builtins only: no fork where the limit is reached.
 */
const KILL_ALL = 'while kill -9 -1 2>/dev/null && [ "$SECONDS" -lt 5 ]; do :; done; exit 0';

export type ContainerSpec = { engine: Engine; id: string; image: string; instance: string; root: string; conda: boolean; limits: Limits };

/** Git without the image's or anyone's configuration, and no hooks or monitors. */
const GIT = 'GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null git -c core.fsmonitor=false -c core.hooksPath=/dev/null';

/** One attempt's container: every command a `exec` in it, the diff read with git inside. */
export class ContainerWorkspace implements Workspace {
  /** No host copy: the repository lives in the container. */
  readonly dir = '';
  readonly root: string;
  baseCommit = '';
  readonly container: string;
  #spec: ContainerSpec;
  #running = new Set<AbortController>();
  #destroyed: Promise<void> | undefined;
  #onDestroy: () => Promise<void>;
  #views: string[] = [];

  constructor(spec: ContainerSpec, onDestroy: () => Promise<void>) {
    this.#spec = spec;
    this.root = spec.root;
    this.container = spec.id;
    this.#onDestroy = onDestroy;
  }

  // Not yet: `podman exec --preserve-fds` could carry it; grading reads the output log meanwhile.
  readonly reportChannel = false;

  async exec(command: string, options: ExecOptions): Promise<ExecResult> {
    if (this.#destroyed) throw new Error(`the container of instance ${this.#spec.instance} was removed`);
    if (!(options.timeoutMs > 0)) throw new RangeError(`exec needs a positive timeoutMs, got ${options.timeoutMs}`);
    const controller = new AbortController();
    this.#running.add(controller);
    try {
      return await this.#exec(command, options, controller.signal);
    } finally {
      this.#running.delete(controller);
    }
  }

  async #exec(command: string, options: ExecOptions, signal: AbortSignal): Promise<ExecResult> {
    const { engine: e, limits } = this.#spec;
    const env = { LANG: 'C.UTF-8', TZ: 'UTC', TERM: 'dumb', ...options.env };
    const args = [...e.globalArgs, 'exec', ...(options.stdin === undefined && !options.gate ? [] : ['-i']), '-w', this.root];
    for (const [name, value] of Object.entries(env)) args.push('-e', `${name}=${value}`);
    args.push(this.container, ...commandArgv(this.#prelude()), 'bench', command);
    const result = await runProcess({
      file: e.path,
      args,
      cwd: tmpdir(),
      env: clientEnv(),
      timeoutMs: options.timeoutMs,
      ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
      ...(options.gate ? { gate: options.gate } : {}),
      maxOutputBytes: limits.maxOutputBytes,
      hardCapBytes: limits.maxOutputBytes * OUTPUT_HARD_CAP_FACTOR,
      // Killing the client leaves the exec'd processes running inside: they are killed there.
      killExtra: () => this.#killAll(),
      signal,
    });
    if (result.exitCode === null || SUSPECT_EXITS.has(result.exitCode)) await this.#assertRunning();
    return result;
  }

  /** Stderr merged into stdout inside (one stream keeps the order), SWE-bench's conda environment when the image has one. */
  #prelude(): string {
    const activate = this.#spec.conda
      ? `source ${CONDA_ACTIVATE} > /dev/null 2>&1 && conda activate testbed > /dev/null 2>&1 || { echo "sandbox: cannot activate the testbed conda environment"; exit 125; }\n`
      : '';
    return `exec 2>&1\n${activate}exec /bin/bash --norc --noprofile -c "$1"`;
  }

  /** Every process in the container but its first: what a timed-out command left, whatever groups it made. */
  async #killAll(): Promise<void> {
    // Until a deadline rather than a count: a fork bomb at the limit refused a dozen execs in a row, now and then more.
    const deadline = performance.now() + KILL_RETRY_MS;
    for (let attempt = 1; performance.now() < deadline; attempt++) {
      const killed = await engine(this.#spec.engine, ['exec', this.container, '/bin/bash', '--norc', '--noprofile', '-c', KILL_ALL], { timeoutMs: 30_000 });
      if (killed.exitCode === 0) return;
      // Processes at the pids limit refuse the exec itself (a fork bomb holding every place): killed from this side where
      // the host shows them, then one exec makes sure; otherwise tried again until one gets in (asking every few tries
      // whether the container is still there).
      if (attempt === 1) await this.#killFromHost();
      if (attempt % 4 === 0 && !(await this.#isRunning())) return;
      await new Promise((done) => setTimeout(done, 20));
    }
  }

  /**
   * SIGKILL, from the host, to every process in the container's pid namespace but its first, passes
   * repeated while more than one is found (a fork that raced a pass) for at most 5 s; no exec into
   * the container, so no place under its pids limit, is needed. Does nothing where the host does not
   * show them to us (a remote engine, a daemon's processes of another user).
   */
  async #killFromHost(): Promise<void> {
    const state = await engine(this.#spec.engine, ['inspect', '--format', '{{.State.Pid}} {{.Id}}', this.container]);
    const [firstPid, id] = state.stdout.trim().split(' ');
    const first = Number(firstPid);
    if (state.exitCode !== 0 || !id || !Number.isInteger(first) || first <= 0) return;
    // The engine's pid is ours only when that process sits in the container's cgroup (an engine elsewhere counts its own pids).
    try {
      if (!readFileSync(`/proc/${first}/cgroup`, 'utf8').includes(id)) return;
    } catch {
      return;
    }
    const namespaceOf = (pid: number) => {
      try {
        return readlinkSync(`/proc/${pid}/ns/pid`);
      } catch {
        // Gone, a zombie (its namespace is no longer shown), or not ours to see.
        return undefined;
      }
    };
    const namespace = namespaceOf(first);
    if (!namespace || namespace === namespaceOf(process.pid)) return;
    const deadline = performance.now() + 5_000;
    while (performance.now() < deadline) {
      let found = 0;
      for (const name of readdirSync('/proc')) {
        const pid = Number(name);
        if (!Number.isInteger(pid) || pid === first || namespaceOf(pid) !== namespace) continue;
        found++;
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      // Room under the limit again: the exec that follows kills whatever is left. (A container's first process may
      // keep a child of its own, a `sleep` it loops on, started again as often as it is killed.)
      if (found <= 1) return;
      await new Promise((done) => setTimeout(done, 10));
    }
  }

  async #isRunning(): Promise<boolean> {
    const state = await engine(this.#spec.engine, ['inspect', '--format', '{{.State.Running}}', this.container]);
    return state.exitCode === 0 && state.stdout.trim() === 'true';
  }

  async #assertRunning(): Promise<void> {
    if (this.#destroyed || (await this.#isRunning())) return;
    throw new Error(
      `the container of instance ${this.#spec.instance} (image ${this.#spec.image}) stopped in the middle of the attempt ` +
        `(it may have been removed, or killed for memory); the attempt is recorded as an infrastructure error`,
    );
  }

  /** Runs our own script inside, outside any command's limits of time and output; throws on failure. */
  async script(text: string, what: string, input?: string | Uint8Array): Promise<string> {
    const args = ['exec', ...(input === undefined ? [] : ['-i']), '-w', this.root, this.container, ...commandArgv(text)];
    const result = await engine(this.#spec.engine, args, { timeoutMs: DIFF_TIMEOUT_MS, ...(input === undefined ? {} : { input }) });
    if (result.exitCode !== 0) {
      await this.#assertRunning();
      throw new Error(`${what} in the container of instance ${this.#spec.instance} failed: ${engineSays(result)}`);
    }
    return result.stdout;
  }

  /**
   * Diff against the base with a private index, so the repository's own index and config change
   * nothing; cut inside the container past the patch cap (then `oversized`), so a huge workspace
   * never reaches the harness's memory.
   */
  async diff(): Promise<WorkspaceDiff> {
    if (this.#destroyed) throw new Error(`the container of instance ${this.#spec.instance} was removed`);
    const capBytes = this.#spec.limits.maxDiffMb * 1024 * 1024 * 4;
    const script = [
      'set -e',
      'scratch=$(mktemp -d)',
      `export GIT_INDEX_FILE="$scratch/index"`,
      `printf '%s\\n' ${CACHE_PATTERNS.map((p) => `'${p}'`).join(' ')} > "$scratch/exclude"`,
      `${GIT} read-tree ${this.baseCommit}`,
      `${GIT} -c core.excludesFile="$scratch/exclude" add -A --ignore-errors > /dev/null 2>&1 || true`,
      `${GIT} diff --cached --binary --no-color --no-ext-diff --no-textconv --no-renames --src-prefix=a/ --dst-prefix=b/ ${this.baseCommit} -- | head -c ${capBytes + 1}`,
      'rm -rf "$scratch"',
    ].join('\n');
    const result = await engine(this.#spec.engine, ['exec', '-w', this.root, this.container, ...commandArgv(script)], { timeoutMs: DIFF_TIMEOUT_MS, keepNewline: true });
    if (result.exitCode !== 0) {
      await this.#assertRunning();
      throw new Error(`reading the diff in the container of instance ${this.#spec.instance} failed: ${engineSays(result)}`);
    }
    if (Buffer.byteLength(result.stdout) > capBytes) {
      return { ok: false, reason: 'oversized', message: `the workspace's changes are too large to grade: the patch exceeds ${Math.round(capBytes / (1024 * 1024))} MB` };
    }
    return { ok: true, patch: result.stdout };
  }

  /** A host copy of the repository (its git directory left out), read with tar from inside. */
  async checkout(): Promise<HostView> {
    if (this.#destroyed) throw new Error(`the container of instance ${this.#spec.instance} was removed`);
    const { engine: e } = this.#spec;
    const dir = await mkdtemp(join(tmpdir(), 'bench-view-'));
    this.#views.push(dir);
    const out = (await loadExeca())(e.path, [...e.globalArgs, 'exec', '-w', this.root, this.container, 'tar', '--exclude=./.git', '-cf', '-', '.'], { reject: false, stdin: 'ignore' });
    const unpacked = await out.pipe('tar', ['--no-same-owner', '-xf', '-', '-C', dir], { reject: false });
    const source = await out;
    if (source.exitCode !== 0 || unpacked.exitCode !== 0) {
      await this.#assertRunning();
      throw new Error(`copying the repository out of the container of instance ${this.#spec.instance} failed: ${String(source.stderr || unpacked.stderr).trim().slice(0, 400)}`);
    }
    const commit = async (paths: string[]) => {
      const present = paths.filter((path) => existsSync(join(dir, path)));
      const gone = paths.filter((path) => !present.includes(path));
      if (present.length) {
        const archive = await (await loadExeca())('tar', ['-C', dir, '-cf', '-', '--', ...present], { encoding: 'buffer' });
        await this.script('tar --no-same-owner -xf -', 'writing files into the repository', archive.stdout as Uint8Array);
      }
      if (gone.length) await this.script(`rm -f -- ${gone.map((path) => `'${path.replace(/'/g, `'\\''`)}'`).join(' ')}`, 'removing files from the repository');
    };
    return { dir, commit };
  }

  destroy(): Promise<void> {
    this.#destroyed ??= (async () => {
      for (const controller of this.#running) controller.abort();
      while (this.#running.size > 0) await new Promise((resolve) => setTimeout(resolve, 10));
      for (const view of this.#views) await rm(view, { recursive: true, force: true });
      await this.#onDestroy();
    })();
    return this.#destroyed;
  }
}

/** The engine client's own environment: what it needs to reach its daemon, nothing of it reaches the container. */
function clientEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) if (value !== undefined) env[name] = value;
  return env;
}
