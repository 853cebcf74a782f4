import type { Readable } from 'node:stream';
import type { execa as Execa } from 'execa';
import { OutputCapture } from './_output.ts';
import { processHelper, reopenedFor, type Confinement, type Rlimit, type SpawnEvents } from './_spawner.ts';
import type { ExecGate, ExecResult } from './_types.ts';

export type ProcessSpec = {
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  stdin?: string;
  maxOutputBytes: number;
  hardCapBytes: number;
  /** Kills whatever the process group kill cannot reach (a cgroup's members); resolves once they are gone. */
  killExtra?: () => Promise<void>;
  signal?: AbortSignal;
  /** Descriptors handed to the child as 3, 4, ... (closed here once it has started). */
  extraFds?: number[];
  /** One more descriptor after `extraFds`: a socket read into `report` (see ExecOptions.reportChannel). */
  reportChannel?: boolean;
  /** See ExecOptions.gate: the wall-time clock stops while the gate is shut. */
  gate?: ExecGate;
  /** Cgroups the process joins and limits it takes before it runs anything (see Confinement). */
  confinement?: Confinement;
};

/** How long we wait for the output pipes to close after killing before we close them ourselves. */
const PIPE_GRACE_MS = 2000;

const liveGroups = new Set<number>();

let execaModule: Promise<typeof Execa> | undefined;

/** execa (a hundred modules) loads when a process is first started here, not with every command that might start one. */
export function loadExeca(): Promise<typeof Execa> {
  execaModule ??= import('execa').then((module) => module.execa);
  return execaModule;
}
let exitHookInstalled = false;

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // The group is already empty.
  }
}

// Detached groups outlive the harness unless we kill them on the way out.
function track(pid: number): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const group of liveGroups) killGroup(group);
    });
  }
  liveGroups.add(pid);
}

/** bash's `ulimit` option for each limit, and the unit it counts in. */
const ULIMIT_OPTIONS: Record<Rlimit['resource'], [string, number]> = { core: ['-c', 1024], fsize: ['-f', 1024], data: ['-d', 1024], nproc: ['-u', 1] };

/**
 * For a process this process starts itself: argv in a bash prelude that closes every descriptor
 * but 0-2 and `keepFds` (whatever the harness itself inherited must not reach the command),
 * merges stderr into stdout (one pipe keeps the order), joins the cgroups and sets the limits
 * before exec-ing argv. The process helper does all of this without a shell.
 */
function wrapCommand(argv: string[], confinement: Confinement, keepFds: number[]): { file: string; args: string[] } {
  const keep = ['0', '1', '2', ...keepFds.map(String)].join('|');
  const ulimits = confinement.rlimits.flatMap(({ resource, value }) => [ULIMIT_OPTIONS[resource][0], String(Math.floor(value / ULIMIT_OPTIONS[resource][1]))]);
  const script = [
    // Builtins only: the glob and `exec N>&-` start no process.
    'for fd in /proc/self/fd/*; do',
    '  fd=${fd##*/}',
    // Only numbers reach eval (no /proc leaves the glob unexpanded).
    `  case $fd in ${keep}|*[!0-9]*|'') ;; *) eval "exec $fd>&-" 2>/dev/null ;; esac`,
    'done',
    'exec 2>&1',
    'while [ "$#" -gt 0 ] && [ "$1" != -- ]; do',
    '  printf "%s\\n" "$$" > "$1" || { echo "sandbox: cannot join cgroup $1"; exit 125; }',
    '  shift',
    'done',
    'shift',
    ...(ulimits.length > 0 ? [`ulimit ${ulimits.join(' ')} || exit 125`] : []),
    'exec "$@"',
  ].join('\n');
  // --norc: bash sources ~/.bashrc when its stdin is a socket (as Node's pipes are), even with -c.
  return { file: '/bin/bash', args: ['--norc', '--noprofile', '-c', script, 'bench-sandbox', ...confinement.cgroupProcs, '--', ...argv] };
}

/** A started child, however it was started: its pid, how to close our ends of its pipes, and its end. */
type Launched = {
  pid: number | undefined;
  closePipes(): void;
  /** With a gate: more for the child's stdin, held open until `end`. */
  writeStdin(data: string, end: boolean): void;
  /** Resolves once it exited and its pipes closed: with why it never started, if it did not. */
  finished: Promise<string | undefined>;
};

/** Started by this process (execa): used when no process helper runs here. */
async function launchDirect(spec: ProcessSpec, events: SpawnEvents): Promise<Launched> {
  const stdin = spec.stdin === undefined && !spec.gate ? ('ignore' as const) : ('pipe' as const);
  const keepFds = [...(spec.extraFds ?? []), ...(spec.reportChannel ? [-1] : [])].map((_, index) => 3 + index);
  const wrapped = wrapCommand([spec.file, ...spec.args], spec.confinement ?? { cgroupProcs: [], rlimits: [] }, keepFds);
  const child = (await loadExeca())(wrapped.file, wrapped.args, {
    cwd: spec.cwd,
    env: spec.env,
    extendEnv: false,
    detached: true,
    buffer: false,
    reject: false,
    stripFinalNewline: false,
    // execa's types name only descriptors 3-9 of the parent; any open descriptor works at run time. Node makes the
    // report channel's 'pipe' a socketpair, and a socket cannot be reopened through /proc/PID/fd as a pipe can.
    stdio: [stdin, 'pipe', 'pipe', ...(spec.extraFds ?? []), ...(spec.reportChannel ? ['pipe' as const] : [])] as ['pipe', 'pipe', 'pipe', ...3[]],
    // With a gate, stdin stays open after its content: the go line comes later.
    ...(spec.stdin === undefined || spec.gate ? {} : { input: spec.stdin }),
  });
  child.stdin?.on('error', () => {
    // The command ended before it read all of its stdin.
  });
  if (spec.gate && spec.stdin !== undefined) child.stdin?.write(spec.stdin);
  const reportStream = spec.reportChannel ? (child.stdio[3 + (spec.extraFds?.length ?? 0)] as unknown as Readable | undefined) : undefined;
  const toBuffer = (chunk: Buffer | string) => (typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  child.stdout?.on('data', (chunk: Buffer | string) => events.output('stdout', toBuffer(chunk)));
  child.stderr?.on('data', (chunk: Buffer | string) => events.output('stderr', toBuffer(chunk)));
  reportStream?.on('data', (chunk: Buffer | string) => events.output('report', toBuffer(chunk)));
  let exited = false;
  child.on('exit', (code, signal) => {
    exited = true;
    events.exit(code, signal);
  });
  return {
    pid: child.pid,
    closePipes: () => {
      child.stdout?.destroy();
      child.stderr?.destroy();
      reportStream?.destroy();
    },
    writeStdin: (data, end) => (end ? child.stdin?.end(data) : child.stdin?.write(data)),
    finished: child.then((result) => (exited ? undefined : result.message ?? 'unknown error')),
  };
}

/** Started by the process helper (see _spawner.ts); throws when the child could not be started. */
async function launchViaHelper(
  spec: ProcessSpec,
  helper: NonNullable<ReturnType<typeof processHelper>>,
  descriptors: [string, number][],
  events: SpawnEvents,
): Promise<Launched> {
  let closed!: () => void;
  const finished = new Promise<undefined>((resolve) => {
    closed = () => resolve(undefined);
  });
  const spawned = await helper.spawn(
    {
      file: spec.file, args: spec.args, cwd: spec.cwd, env: spec.env, stdin: spec.stdin, holdStdin: Boolean(spec.gate), descriptors, reportChannel: spec.reportChannel,
      mergeStderr: true, ...(spec.confinement ? { confinement: spec.confinement } : {}),
    },
    { output: events.output, exit: events.exit, closed },
  );
  return { pid: spawned.pid, closePipes: spawned.closePipes, writeStdin: spawned.writeStdin, finished };
}

/**
 * Runs one process in its own process group with a wall-time limit and an output budget, its
 * stderr merged into its stdout, in its cgroups and under its limits (`confinement`) from its
 * first instruction. Once the main process exits, whatever it left behind in its group is killed too.
 */
export async function runProcess(spec: ProcessSpec): Promise<ExecResult> {
  const started = performance.now();
  const capture = new OutputCapture(spec.maxOutputBytes);
  const reportCapture = spec.reportChannel ? new OutputCapture(spec.maxOutputBytes) : undefined;

  let timedOut = false;
  let killedByUs = false;
  let extraKill: Promise<void> | undefined;
  let exit: { code: number | null; signal: string | null } | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  let launched: Launched | undefined;

  const killTree = () => {
    if (launched?.pid !== undefined) killGroup(launched.pid);
    extraKill ??= spec.killExtra?.().catch(() => undefined);
    graceTimer ??= setTimeout(() => launched?.closePipes(), PIPE_GRACE_MS);
  };
  const stop = () => {
    if (exit === undefined) killedByUs = true;
    killTree();
  };
  // The wall-time clock: stopped while the command waits at its gate.
  let remainingMs = spec.timeoutMs;
  let clockStarted = 0;
  let clockRunning = false;
  let timer: NodeJS.Timeout | undefined;
  const startClock = () => {
    // The gate may open before the launch has returned (the helper sends the start and the marker together): one clock only.
    if (clockRunning) return;
    clockRunning = true;
    clockStarted = performance.now();
    timer = setTimeout(() => {
      if (exit !== undefined) return;
      timedOut = true;
      stop();
    }, Math.max(0, remainingMs));
  };
  const stopClock = () => {
    if (!clockRunning) return;
    clockRunning = false;
    clearTimeout(timer);
    remainingMs -= performance.now() - clockStarted;
  };

  let whenLaunched!: (launched: Launched) => void;
  const launching = new Promise<Launched>((resolve) => {
    whenLaunched = resolve;
  });
  let waitingAtGate = false;
  const gate = spec.gate && { marker: Buffer.from(`${spec.gate.marker}\n`), seen: Buffer.alloc(0), reached: false };
  // Our scripts print the marker on stdout; only the last bytes of earlier chunks can start one split across chunks.
  const watchGate = (chunk: Buffer) => {
    if (!gate || gate.reached) return;
    gate.seen = Buffer.concat([gate.seen.subarray(-gate.marker.length), chunk]);
    if (!gate.seen.includes(gate.marker)) return;
    gate.reached = true;
    waitingAtGate = true;
    stopClock();
    void spec.gate!.open().then(
      () => {
        waitingAtGate = false;
        if (exit !== undefined || killedByUs) return;
        if (spec.gate!.timeoutMs !== undefined) remainingMs = spec.gate!.timeoutMs;
        startClock();
        void launching.then((started) => started.writeStdin('go\n', true));
      },
      () => stop(),
    );
  };

  const events: SpawnEvents = {
    output: (stream, chunk) => {
      const into = stream === 'report' ? reportCapture! : capture;
      into.push(chunk);
      if (into.total > spec.hardCapBytes) stop();
      if (stream === 'stdout') watchGate(chunk);
    },
    exit: (code, signal) => {
      exit = { code, signal };
      spec.gate?.exited?.();
      killTree();
    },
    closed: () => {},
  };

  const helper = processHelper();
  // Each descriptor is resolved once: whether the helper can pass it, and how.
  const descriptors = helper ? reopenedFor(spec.extraFds ?? []) : null;
  if (helper && descriptors) {
    try {
      launched = await launchViaHelper(spec, helper, descriptors, events);
    } catch (error) {
      throw new Error(`could not start ${spec.file}: ${(error as Error).message}`, { cause: error });
    }
  } else {
    launched = await launchDirect(spec, events);
  }
  whenLaunched(launched);
  const pid = launched.pid;
  if (pid !== undefined) track(pid);
  // Output or an exit that came before the pid was known: act on it now.
  if (exit !== undefined || capture.total > spec.hardCapBytes || (reportCapture?.total ?? 0) > spec.hardCapBytes) killTree();

  if (!waitingAtGate) startClock();
  const onAbort = () => stop();
  spec.signal?.addEventListener('abort', onAbort, { once: true });
  if (spec.signal?.aborted) stop();

  const notStarted = await launched.finished;
  clearTimeout(timer);
  spec.signal?.removeEventListener('abort', onAbort);
  killTree();
  await extraKill;
  clearTimeout(graceTimer);
  if (pid !== undefined) liveGroups.delete(pid);

  if (exit === undefined && !killedByUs) {
    throw new Error(`could not start ${spec.file}: ${notStarted ?? 'unknown error'}`);
  }
  return {
    exitCode: exit?.code ?? null,
    signal: exit?.signal ?? (killedByUs ? 'SIGKILL' : null),
    timedOut,
    outputLimited: capture.limited,
    output: capture.text(),
    durationMs: Math.round(performance.now() - started),
    ...(reportCapture ? { report: reportCapture.text(), reportLimited: reportCapture.limited } : {}),
  };
}

export type CommandResult = {
  /** Undefined when it was ended by a signal or never started. */
  exitCode: number | undefined;
  signal: string | undefined;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they came. */
  all: string;
  timedOut: boolean;
  /** stdout or stderr passed maxBuffer: the process was killed, the output cut there. */
  isMaxBuffer: boolean;
  /** Why it could not be started. */
  message?: string;
};

const DEFAULT_MAX_BUFFER = 100 * 1024 * 1024;

/**
 * A short host command (git, mount) and its whole output, as execa with `reject: false` gives it;
 * started by the process helper when one runs here. A timeout or an output beyond maxBuffer kills
 * the command's process group.
 */
export async function runCommand(
  file: string,
  args: string[],
  options: { cwd?: string; env: Record<string, string>; input?: string; timeoutMs?: number; maxBuffer?: number },
): Promise<CommandResult> {
  const maxBuffer = options.maxBuffer ?? DEFAULT_MAX_BUFFER;
  const helper = processHelper();
  if (!helper) {
    const result = await (await loadExeca())(file, args, {
      cwd: options.cwd, env: options.env, extendEnv: false, reject: false, stripFinalNewline: false, all: true, maxBuffer,
      ...(options.input === undefined ? {} : { input: options.input }), ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
    });
    return {
      exitCode: result.exitCode, signal: result.signal, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? ''),
      all: String(result.all ?? ''), timedOut: Boolean(result.timedOut), isMaxBuffer: Boolean(result.isMaxBuffer),
      ...(result.exitCode === undefined && !result.signal && !result.timedOut ? { message: result.message } : {}),
    };
  }
  const chunks = { stdout: [] as Buffer[], stderr: [] as Buffer[], all: [] as Buffer[] };
  const sizes = { stdout: 0, stderr: 0 };
  let timedOut = false;
  let isMaxBuffer = false;
  let exit: { code: number | null; signal: string | null } | undefined;
  let pid: number | undefined;
  let done!: () => void;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const kill = () => {
    if (pid !== undefined && exit === undefined) killGroup(pid);
  };
  try {
    const spawned = await helper.spawn(
      { file, args, cwd: options.cwd ?? process.cwd(), env: options.env, ...(options.input === undefined ? {} : { stdin: options.input }) },
      {
        output: (stream, chunk) => {
          if (stream === 'report' || isMaxBuffer) return;
          const room = maxBuffer - sizes[stream];
          const kept = chunk.length > room ? chunk.subarray(0, Math.max(0, room)) : chunk;
          sizes[stream] += kept.length;
          chunks[stream].push(kept);
          chunks.all.push(kept);
          if (chunk.length > room) {
            isMaxBuffer = true;
            kill();
          }
        },
        exit: (code, signal) => {
          exit = { code, signal };
        },
        closed: () => done(),
      },
    );
    pid = spawned.pid;
    if (isMaxBuffer) kill();
  } catch (error) {
    return { exitCode: undefined, signal: undefined, stdout: '', stderr: '', all: '', timedOut: false, isMaxBuffer: false, message: `could not start ${file}: ${(error as Error).message}` };
  }
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    kill();
  }, options.timeoutMs);
  await finished;
  clearTimeout(timer);
  const text = (parts: Buffer[]) => Buffer.concat(parts).toString('utf8');
  return {
    exitCode: exit?.code ?? undefined, signal: exit?.signal ?? undefined,
    stdout: text(chunks.stdout), stderr: text(chunks.stderr), all: text(chunks.all), timedOut: timedOut && exit?.code == null, isMaxBuffer,
  };
}
