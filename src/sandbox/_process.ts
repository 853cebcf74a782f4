import type { Readable } from 'node:stream';
import { execa } from 'execa';
import { OutputCapture } from './_output.ts';
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
};

/** How long we wait for the output pipes to close after killing before we close them ourselves. */
const PIPE_GRACE_MS = 2000;

const liveGroups = new Set<number>();
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

/**
 * Wraps argv in a bash prelude that closes every descriptor but 0-2 (and `keepFds`: whatever the
 * harness itself inherited must not reach the command), merges stderr into stdout (one pipe
 * keeps the order), joins the given cgroups and sets resource limits before exec-ing argv.
 */
export function wrapCommand(
  argv: string[],
  options: { cgroupProcs: string[]; ulimits: string[]; keepFds?: number[] },
): { file: string; args: string[] } {
  const keep = ['0', '1', '2', ...(options.keepFds ?? []).map(String)].join('|');
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
    ...(options.ulimits.length > 0 ? [`ulimit ${options.ulimits.join(' ')} || exit 125`] : []),
    'exec "$@"',
  ].join('\n');
  // --norc: bash sources ~/.bashrc when its stdin is a socket (as Node's pipes are), even with -c.
  return { file: '/bin/bash', args: ['--norc', '--noprofile', '-c', script, 'bench-sandbox', ...options.cgroupProcs, '--', ...argv] };
}

/**
 * Runs one process in its own process group with a wall-time limit and an output budget.
 * Once the main process exits, whatever it left behind in its group is killed too.
 */
export async function runProcess(spec: ProcessSpec): Promise<ExecResult> {
  const started = performance.now();
  const capture = new OutputCapture(spec.maxOutputBytes);
  const reportCapture = spec.reportChannel ? new OutputCapture(spec.maxOutputBytes) : undefined;
  const stdin = spec.stdin === undefined && !spec.gate ? ('ignore' as const) : ('pipe' as const);
  const child = execa(spec.file, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    extendEnv: false,
    detached: true,
    buffer: false,
    reject: false,
    stripFinalNewline: false,
    // execa's types name only descriptors 3-9 of the parent; any open descriptor works at run time. Node makes the
    // report channel's 'pipe' a socketpair, and a socket cannot be reopened through /proc/PID/fd as a pipe can.
    stdio: [stdin, 'pipe', 'pipe', ...(spec.extraFds ?? []), ...(reportCapture ? ['pipe' as const] : [])] as ['pipe', 'pipe', 'pipe', ...3[]],
    // With a gate, stdin stays open after its content: the go line comes later.
    ...(spec.stdin === undefined || spec.gate ? {} : { input: spec.stdin }),
  });
  if (spec.gate && spec.stdin !== undefined) child.stdin?.write(spec.stdin);
  const reportStream = reportCapture ? (child.stdio[3 + (spec.extraFds?.length ?? 0)] as unknown as Readable | undefined) : undefined;
  const pid = child.pid;
  if (pid !== undefined) track(pid);

  let timedOut = false;
  let killedByUs = false;
  let extraKill: Promise<void> | undefined;
  let exit: { code: number | null; signal: string | null } | undefined;
  let graceTimer: NodeJS.Timeout | undefined;

  const killTree = () => {
    if (pid !== undefined) killGroup(pid);
    extraKill ??= spec.killExtra?.().catch(() => undefined);
    graceTimer ??= setTimeout(() => {
      child.stdout?.destroy();
      child.stderr?.destroy();
      reportStream?.destroy();
    }, PIPE_GRACE_MS);
  };
  const stop = () => {
    if (exit === undefined) killedByUs = true;
    killTree();
  };

  // The wall-time clock: stopped while the command waits at its gate.
  let remainingMs = spec.timeoutMs;
  let clockStarted = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const onTimeout = () => {
    if (exit !== undefined) return;
    timedOut = true;
    stop();
  };
  const startClock = () => {
    clockStarted = performance.now();
    timer = setTimeout(onTimeout, remainingMs);
  };
  const stopClock = () => {
    clearTimeout(timer);
    remainingMs -= performance.now() - clockStarted;
  };

  const gate = spec.gate && { marker: Buffer.from(`${spec.gate.marker}\n`), seen: Buffer.alloc(0), reached: false };
  const watchGate = (chunk: Buffer) => {
    if (!gate || gate.reached) return;
    // Only the last bytes of the previous chunks can start a marker split across chunks.
    gate.seen = Buffer.concat([gate.seen.subarray(-gate.marker.length), chunk]);
    if (!gate.seen.includes(gate.marker)) return;
    gate.reached = true;
    stopClock();
    void spec.gate!.open().then(
      () => {
        if (exit !== undefined || killedByUs) return;
        startClock();
        child.stdin?.end('go\n');
      },
      () => stop(),
    );
  };
  child.stdin?.on('error', () => {
    // The command ended before it read its go line.
  });

  const onChunk = (chunk: Buffer | string) => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    capture.push(bytes);
    if (capture.total > spec.hardCapBytes) stop();
    watchGate(bytes);
  };
  child.stdout?.on('data', onChunk);
  child.stderr?.on('data', onChunk);
  reportStream?.on('data', (chunk: Buffer | string) => {
    reportCapture!.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (reportCapture!.total > spec.hardCapBytes) stop();
  });
  child.on('exit', (code, signal) => {
    exit = { code, signal };
    killTree();
  });

  startClock();
  const onAbort = () => stop();
  spec.signal?.addEventListener('abort', onAbort, { once: true });
  if (spec.signal?.aborted) stop();

  const result = await child;
  clearTimeout(timer);
  child.stdin?.destroy();
  spec.signal?.removeEventListener('abort', onAbort);
  killTree();
  await extraKill;
  clearTimeout(graceTimer);
  if (pid !== undefined) liveGroups.delete(pid);

  if (exit === undefined && !killedByUs) {
    throw new Error(`could not start ${spec.file}: ${result.message ?? 'unknown error'}`, { cause: result });
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
