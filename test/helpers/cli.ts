import { execa } from 'execa';
import { fileURLToPath } from 'node:url';

export const BENCH_BIN = fileURLToPath(new URL('../../bin/bench.js', import.meta.url));
export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Runs the real `bench` CLI in a subprocess, as a user would. Never throws on a non-zero exit. */
export async function bench(args: string[], options: { cwd?: string; env?: Record<string, string | undefined>; timeout?: number } = {}) {
  // Tests count a scripted server's requests: the pre-flight request is left out unless a test asks for it.
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', BENCH_CONFIG: undefined, BENCH_DB: undefined, BENCH_NO_PREFLIGHT: '1', ...options.env };
  for (const key of Object.keys(env)) if (key.startsWith('LLM_') && !(options.env && key in options.env)) delete env[key];
  const result = await execa(process.execPath, [BENCH_BIN, ...args], {
    cwd: options.cwd ?? PROJECT_ROOT, env, extendEnv: false, reject: false, timeout: options.timeout ?? 120_000,
  });
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}
