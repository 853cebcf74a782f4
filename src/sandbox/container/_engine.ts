import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { UserError } from '../../errors.ts';
import { loadExeca } from '../_process.ts';

/** A Docker-compatible command-line client: `docker`, `podman`, or a path in BENCH_CONTAINER_ENGINE. */
export type Engine = {
  /** `docker` or `podman`: the backend the user chose. */
  name: string;
  /** Absolute path of the client. */
  path: string;
  /** Arguments before every subcommand (podman's `--runtime`). */
  globalArgs: string[];
};

export type EngineResult = { exitCode: number; stdout: string; stderr: string };

function onPath(name: string): string | null {
  if (isAbsolute(name)) return executable(name) ? name : null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, name))) return join(dir, name);
  }
  return null;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The engine for a backend: BENCH_CONTAINER_ENGINE when set, else the backend's own client.
 * Podman runs with runc when runc is installed (crun fails on some cgroup layouts);
 * BENCH_CONTAINER_RUNTIME names another runtime, or `default` for the engine's own choice.
 */
export function locateEngine(name: string, env: NodeJS.ProcessEnv = process.env): Engine | null {
  const path = onPath(env.BENCH_CONTAINER_ENGINE || name);
  if (!path) return null;
  const globalArgs: string[] = [];
  if (/podman[^/]*$/.test(path)) {
    const runtime = env.BENCH_CONTAINER_RUNTIME ?? (onPath('runc') ? 'runc' : 'default');
    if (runtime !== 'default' && runtime !== '') globalArgs.push('--runtime', runtime);
  }
  return { name, path, globalArgs };
}

export function missingEngineMessage(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const wanted = env.BENCH_CONTAINER_ENGINE || name;
  return (
    `The ${name} sandbox needs the container engine \`${wanted}\`, which is not ${isAbsolute(wanted) ? 'an executable file' : 'on PATH'}` +
    `${env.BENCH_CONTAINER_ENGINE ? ' (set by BENCH_CONTAINER_ENGINE)' : ''}. Install it (Debian/Ubuntu: \`apt-get install ${name === 'podman' ? 'podman runc' : 'docker.io'}\`), ` +
    'point BENCH_CONTAINER_ENGINE at a Docker-compatible client, or run with `--sandbox bwrap`.'
  );
}

/** One engine call; a failure is a value (exit code and stderr), never a throw. */
export async function engine(e: Engine, args: string[], options: { input?: string | Uint8Array; timeoutMs?: number; keepNewline?: boolean } = {}): Promise<EngineResult> {
  const result = await (await loadExeca())(e.path, [...e.globalArgs, ...args], {
    reject: false,
    timeout: options.timeoutMs ?? 120_000,
    stripFinalNewline: !options.keepNewline,
    maxBuffer: 1024 * 1024 * 1024,
    ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
  });
  return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout ?? ''), stderr: String(result.stderr ?? result.message ?? '') };
}

/** The engine's own words on a failure, on one line and short. */
export function engineSays(result: EngineResult): string {
  const text = (result.stderr || result.stdout).replace(/\s+/g, ' ').trim();
  return text.length > 400 ? `${text.slice(0, 400)}...` : text || `exit ${result.exitCode}`;
}

/** A failed engine call as a UserError: what, for which instance, and how to fix it. */
export function engineError(what: string, result: EngineResult, fix: string): UserError {
  return new UserError(`${what}: the engine said "${engineSays(result)}". ${fix}`);
}
