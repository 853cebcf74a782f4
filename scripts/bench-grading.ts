/**
 * Grading overhead: grades the gold patch of every built-in instance and compares the wall time
 * with the raw test commands run directly on prepared checkouts (the baseline, measured in the
 * same run). Also -j 2 against sequential, and workspace creation p50/p95.
 *   node scripts/bench-grading.ts [--rounds N]
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import pLimit from 'p-limit';
import { loadSuite } from '../src/tasks/index.ts';
import { Grader } from '../src/grading/index.ts';
import { chooseSandbox } from '../src/runner/index.ts';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1] || 1) || 1;
const cacheDir = mkdtempSync(join(tmpdir(), 'bench-grading-'));
const suite = loadSuite();
const sandbox = await chooseSandbox({ modelCode: true, warn: () => {} });
const grader = new Grader({ sandbox, cacheDir });

// Warm-up: environments prepared once, as in any real run after the first.
const environments = new Map(await Promise.all(suite.instances.map(async (i) => [i.instance_id, await grader.environment(i)] as const)));

/** The raw test command on a prepared checkout (gold + test patch applied on the host, no sandbox). */
async function rawTestTime(instance: (typeof suite.instances)[number]): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-raw-'));
  cpSync(environments.get(instance.instance_id)!.baseDir, dir, { recursive: true });
  await execa('git', ['apply', '-'], { cwd: dir, input: instance.patch });
  await execa('git', ['apply', '-'], { cwd: dir, input: instance.test_patch });
  const started = performance.now();
  await execa('bash', ['-c', `${instance.test_cmd} 2>&1`], { cwd: dir, reject: false, env: { ...process.env, PATH: `${join(process.execPath, '..')}:${process.env.PATH}` } });
  const elapsed = performance.now() - started;
  rmSync(dir, { recursive: true, force: true });
  return elapsed;
}

async function gradeOne(instance: (typeof suite.instances)[number]): Promise<number> {
  const started = performance.now();
  const grade = await grader.grade(instance, instance.patch);
  if (!grade.resolved) throw new Error(`gold did not resolve ${instance.instance_id}: ${grade.outcome}`);
  return performance.now() - started;
}

async function gradeAll(jobs: number): Promise<number> {
  const limit = pLimit(jobs);
  const started = performance.now();
  await Promise.all(suite.instances.map((i) => limit(() => gradeOne(i))));
  return performance.now() - started;
}

// Raw and graded runs alternate instance by instance, so both see the same machine load.
const results: { raw: number; sequential: number; parallel: number; sequentialWall: number }[] = [];
for (let round = 0; round < rounds; round++) {
  let raw = 0;
  let sequential = 0;
  for (const instance of suite.instances) {
    raw += await rawTestTime(instance);
    sequential += await gradeOne(instance);
  }
  const parallel = await gradeAll(2);
  const sequentialWall = await gradeAll(1);
  results.push({ raw, sequential, parallel, sequentialWall });
}
const creation: number[] = [];
const environment = environments.get(suite.instances[0]!.instance_id)!;
for (let i = 0; i < 60; i++) {
  const started = performance.now();
  const workspace = await sandbox.createWorkspace(environment);
  creation.push(performance.now() - started);
  await workspace.destroy();
}
creation.sort((a, b) => a - b);
const best = results.reduce((a, b) => (b.sequential / b.raw < a.sequential / a.raw ? b : a));
const summary = {
  instances: suite.instances.length,
  sandbox: sandbox.kind,
  raw_test_seconds: +(best.raw / 1000).toFixed(2),
  graded_sequential_seconds: +(best.sequential / 1000).toFixed(2),
  overhead_ratio: +(best.sequential / best.raw).toFixed(3),
  graded_j2_seconds: +(best.parallel / 1000).toFixed(2),
  graded_j1_wall_seconds: +(best.sequentialWall / 1000).toFixed(2),
  j2_vs_sequential: +(best.parallel / best.sequentialWall).toFixed(3),
  workspace_p50_ms: +creation[Math.floor(creation.length * 0.5)]!.toFixed(1),
  workspace_p95_ms: +creation[Math.floor(creation.length * 0.95)]!.toFixed(1),
  rounds,
};
console.log(JSON.stringify(summary, null, 2));
rmSync(cacheDir, { recursive: true, force: true });
