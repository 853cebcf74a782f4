import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export function runDir(runId: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.BENCH_RESULTS_DIR ?? 'results', 'runs', safeName(runId));
}

/** Writes via a temp file and a rename, so a reader never sees half a file. */
export function writeFileAtomic(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, content);
  renameSync(temp, path);
}

/**
 * A run, config or model name as one path component inside its folder: `org/model` becomes
 * `org__model` as SWE-bench writes it, other characters outside [A-Za-z0-9._-] become `_`, and a
 * leading dot (`.`, `..`, hidden files) becomes `_`, so no name can leave or hide in its folder.
 */
export function safeName(name: string): string {
  const flat = name.replace(/[/\\]/g, '__').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\./, '_').slice(0, 120);
  return flat || '_';
}
