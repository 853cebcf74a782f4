import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Processes started by a small long-lived helper (`_spawner.py`, the system's Python) rather than
 * by this process: forking a Node process of a few hundred MB costs 5-12 ms of its only thread
 * (the kernel copies its page tables), the helper starts one in about a millisecond (by vfork,
 * where nothing is to be done before the exec), joins it to its cgroups and sets its limits
 * before the exec (no shell prelude to start), and mounts and unmounts workspace filesystems
 * itself (no `mount` process). What a child sees is the same
 * either way: its own session and process group, stdio on socket pairs, the given descriptors as
 * 3, 4, ..., the report channel after them, nothing else. Without a usable Python (or with
 * BENCH_SPAWNER=0) callers start their processes and mounts themselves.
 */
export type SpawnRequest = {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Written to the child's stdin, which is then closed (unless `holdStdin`); without either, stdin is /dev/null. */
  stdin?: string;
  /** Stdin stays open after `stdin` for what `writeStdin` sends, until it ends it. */
  holdStdin?: boolean;
  /** Descriptors of this process handed to the child as 3, 4, ..., as `reopenedFor` resolved them (files and pipes only). */
  descriptors?: [string, number][];
  /** One more descriptor after `extraFds`: a socket pair whose other end only the helper holds. */
  reportChannel?: boolean;
  /** Stderr on stdout's socket: one stream, in the order it was written. */
  mergeStderr?: boolean;
  /** What the child does before its exec: see Confinement. */
  confinement?: Confinement;
};

/** Cgroups a child joins (their `cgroup.procs` files) and resource limits it takes, soft and hard, before its exec. */
export type Confinement = { cgroupProcs: readonly string[]; rlimits: readonly Rlimit[] };

/** A resource limit as setrlimit(2) takes it: bytes for `core`, `fsize` and `data`, a count for `nproc`. */
export type Rlimit = { resource: 'core' | 'fsize' | 'data' | 'nproc'; value: number };

export type SpawnEvents = {
  output(stream: 'stdout' | 'stderr' | 'report', chunk: Buffer): void;
  exit(code: number | null, signal: string | null): void;
  /** Every pipe of the child is closed (after its exit, or once `closePipes` was called). */
  closed(): void;
};

export type Spawned = { pid: number; closePipes(): void; writeStdin(data: string, end: boolean): void };

const PYTHON = '/usr/bin/python3';
const O_ACCMODE = 0o3;
const HELPER = join(import.meta.dirname, '_spawner.py');

/** The kernel's refusal of a mount or an unmount, undefined when it was done. */
type Answer = (error: string | undefined) => void;

type Pending = { events: SpawnEvents; started: (spawned: Spawned) => void; failed: (error: Error) => void; exited?: boolean; closed?: boolean };

class Helper {
  readonly #process: ChildProcess;
  readonly #children = new Map<number, Pending>();
  readonly #answers = new Map<number, Answer>();
  #next = 1;
  #buffer: Buffer<ArrayBufferLike> = Buffer.alloc(0);
  #dead: Error | undefined;

  constructor() {
    this.#process = spawn(PYTHON, ['-I', '-S', HELPER], { stdio: ['pipe', 'pipe', 'inherit'], detached: true, env: { LANG: 'C.UTF-8' } });
    this.#process.stdout!.on('data', (chunk: Buffer) => this.#read(chunk));
    const die = (error: Error) => {
      this.#dead ??= error;
      for (const [id, pending] of this.#children) {
        this.#children.delete(id);
        pending.failed(this.#dead);
        pending.events.closed();
      }
      for (const [id, answer] of this.#answers) {
        this.#answers.delete(id);
        answer(this.#dead.message);
      }
    };
    this.#process.on('error', die);
    this.#process.on('exit', () => die(new Error('the process helper exited')));
    this.#process.stdin!.on('error', () => {});
    this.#idle();
  }

  spawn(request: SpawnRequest, events: SpawnEvents): Promise<Spawned> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#next++;
    const fds = request.descriptors ?? [];
    return new Promise((resolve, reject) => {
      this.#children.set(id, { events, started: resolve, failed: reject });
      this.#busy();
      this.#send({
        op: 'spawn', id, file: request.file, args: request.args, cwd: request.cwd, env: request.env,
        stdin: request.stdin === undefined ? null : Buffer.from(request.stdin).toString('base64'), hold_stdin: Boolean(request.holdStdin), fds, report: Boolean(request.reportChannel),
        merge_stderr: Boolean(request.mergeStderr), cgroups: request.confinement?.cgroupProcs ?? [],
        rlimits: (request.confinement?.rlimits ?? []).map(({ resource, value }) => [resource, value]),
      });
    });
  }

  /** mount(2) as the helper (a process of our own user) makes it; resolves with the kernel's refusal, if any. */
  mount(request: { source: string; target: string; type: string; flags: number; data: string }): Promise<string | undefined> {
    return this.#ask({ op: 'mount', ...request });
  }

  /** umount2(2); `flags` 2 is MNT_DETACH. */
  unmount(target: string, flags = 0): Promise<string | undefined> {
    return this.#ask({ op: 'unmount', target, flags });
  }

  #ask(message: object): Promise<string | undefined> {
    if (this.#dead) return Promise.resolve(this.#dead.message);
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#answers.set(id, resolve);
      this.#busy();
      this.#send({ ...message, id });
    });
  }

  #send(message: object): void {
    this.#process.stdin!.write(`${JSON.stringify(message)}\n`);
  }

  #read(chunk: Buffer): void {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    while (this.#buffer.length >= 9) {
      const length = this.#buffer.readUInt32BE(0);
      if (this.#buffer.length < 9 + length) break;
      const kind = String.fromCharCode(this.#buffer[4]!);
      const id = this.#buffer.readUInt32BE(5);
      const payload = this.#buffer.subarray(9, 9 + length);
      this.#buffer = this.#buffer.subarray(9 + length);
      this.#event(kind, id, payload);
    }
  }

  #event(kind: string, id: number, payload: Buffer): void {
    const answer = kind === 'A' ? this.#answers.get(id) : undefined;
    if (answer) {
      this.#answers.delete(id);
      this.#idle();
      answer((JSON.parse(payload.toString()) as { error: string | null }).error ?? undefined);
      return;
    }
    const child = this.#children.get(id);
    if (!child) return;
    switch (kind) {
      case 'S': {
        const { pid } = JSON.parse(payload.toString()) as { pid: number };
        child.started({ pid, closePipes: () => this.#send({ op: 'close', id }), writeStdin: (data, end) => this.#send({ op: 'stdin', id, data: Buffer.from(data).toString('base64'), end }) });
        break;
      }
      case 'F':
        this.#children.delete(id);
        this.#idle();
        child.failed(new Error((JSON.parse(payload.toString()) as { message: string }).message));
        break;
      case 'O':
      case 'E':
      case 'R':
        // The payload is a view of a buffer that later frames reuse: the listener gets its own copy.
        child.events.output(kind === 'O' ? 'stdout' : kind === 'E' ? 'stderr' : 'report', Buffer.from(payload));
        break;
      case 'X': {
        const { code, signal } = JSON.parse(payload.toString()) as { code: number | null; signal: string | null };
        child.exited = true;
        child.events.exit(code, signal);
        this.#ended(id, child);
        break;
      }
      case 'C':
        child.closed = true;
        this.#ended(id, child);
        break;
    }
  }

  /** Closed is told once the child both exited and closed its pipes, in whichever order they came. */
  #ended(id: number, child: Pending): void {
    if (!child.exited || !child.closed) return;
    this.#children.delete(id);
    this.#idle();
    child.events.closed();
  }

  // The helper never keeps the harness alive on its own: referenced only while it runs a child.
  #busy(): void {
    this.#process.ref();
    (this.#process.stdout as unknown as { ref(): void }).ref();
  }

  #idle(): void {
    if (this.#children.size > 0 || this.#answers.size > 0) return;
    this.#process.unref();
    (this.#process.stdout as unknown as { unref(): void }).unref();
    (this.#process.stdin as unknown as { unref?(): void }).unref?.();
  }
}

/** O_ACCMODE and O_APPEND of a descriptor, from /proc/self/fdinfo. */
function reopenable(fd: number): [string, number] {
  const target = readlinkSync(`/proc/self/fd/${fd}`);
  if (!target.startsWith('/') && !target.startsWith('pipe:')) throw new Error(`descriptor ${fd} (${target}) cannot be reopened by the process helper`);
  const flags = Number.parseInt(/^flags:\s*([0-7]+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? '0', 8);
  return [`/proc/${process.pid}/fd/${fd}`, flags & (O_ACCMODE | constants.O_APPEND)];
}

let helper: Helper | null | undefined;

/** The helper, started on first use; null when processes are to be started by this process. */
export function processHelper(): Pick<Helper, 'spawn' | 'mount' | 'unmount'> | null {
  if (helper !== undefined) return helper;
  helper = null;
  if (process.platform !== 'linux' || process.env.BENCH_SPAWNER === '0') return null;
  try {
    accessSync(PYTHON, constants.X_OK);
  } catch {
    return null;
  }
  helper = new Helper();
  return helper;
}

/** How the helper reopens each descriptor, or null when one cannot be handed over (files and pipes can; sockets cannot). */
export function reopenedFor(fds: readonly number[]): [string, number][] | null {
  try {
    return fds.map(reopenable);
  } catch {
    return null;
  }
}
