import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Grade } from '../grading/index.ts';

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

/** SWE-bench's layout: <run>/<model>/<instance>/{report.json,patch.diff,test_output.txt}. */
export function writeInstanceReport(dir: string, model: string, grade: Grade, patch: string | null): void {
  const folder = join(dir, safeName(model), safeName(grade.instanceId));
  writeFileAtomic(join(folder, 'report.json'), `${JSON.stringify(grade.report, null, 2)}\n`);
  if (patch) writeFileAtomic(join(folder, 'patch.diff'), patch);
  if (grade.log) writeFileAtomic(join(folder, 'test_output.txt'), grade.log);
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
