/**
 * Grading overhead: grades the gold patch of every built-in instance and compares the wall time
 * with the raw test commands run directly on prepared checkouts (the baseline, measured in the
 * same run). Also -j 2 against sequential, and workspace creation p50/p95. With a container
 * engine (podman here, or --container docker) and an image holding Node 24 and Python 3 (--image, default
 * bench-toolchain:node24-python3), also per-instance grading time in containers against bwrap, the two
 * alternating instance by instance, and container workspace creation p50/p95.
 *   node scripts/bench-grading.ts [--rounds N] [--container podman|docker] [--image NAME] [--no-container | --container-only]
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import pLimit from 'p-limit';
import { loadSuite } from '../src/tasks/index.ts';
import { Grader } from '../src/grading/index.ts';
import { chooseSandbox } from '../src/runner/index.ts';
import { SANDBOXES, TOOLCHAIN_IMAGE, imageSandboxes, type Sandbox } from '../src/sandbox/index.ts';

const flag = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const rounds = Number(flag('--rounds') || 1) || 1;
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

// --container-only: just the container figures (their bwrap baseline is measured beside them anyway).
const summary = process.argv.includes('--container-only') ? { instances: suite.instances.length } : await hostFigures();

async function hostFigures(): Promise<Record<string, unknown>> {
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
  return {
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
}
console.log(JSON.stringify({ ...summary, ...(await containerFigures()) }, null, 2));
rmSync(cacheDir, { recursive: true, force: true });

/** Per-instance grading time in a container against bwrap, alternating, plus container workspace creation. */
async function containerFigures(): Promise<Record<string, unknown>> {
  if (process.argv.includes('--no-container')) return {};
  const name = flag('--container') ?? imageSandboxes().find((n) => n === 'podman') ?? 'docker';
  const backend = SANDBOXES[name as keyof typeof SANDBOXES];
  const missing = await backend.unavailable();
  if (missing) return { container: `skipped: ${missing}` };
  const image = flag('--image') ?? TOOLCHAIN_IMAGE;
  const containers: Sandbox = backend.create({ image });
  const inContainers = new Grader({ sandbox: containers, cacheDir });
  const host = new Grader({ sandbox, cacheDir });
  const time = async (g: Grader, instance: (typeof suite.instances)[number]) => {
    const started = performance.now();
    const grade = await g.grade(instance, instance.patch);
    if (!grade.resolved) throw new Error(`${g.sandbox.kind}: gold did not resolve ${instance.instance_id}: ${grade.outcome} ${grade.error ?? ''}`);
    return performance.now() - started;
  };
  const bwrapMs: number[] = [];
  const containerMs: number[] = [];
  const ratios: number[] = [];
  // Prepared once (the image read, the host base made), as in a run after its first instance.
  for (const instance of suite.instances) await inContainers.environment(instance);
  for (const instance of suite.instances) {
    const b = await time(host, instance);
    const c = await time(inContainers, instance);
    bwrapMs.push(b);
    containerMs.push(c);
    ratios.push(c / b);
  }
  const creation: number[] = [];
  const environment = await inContainers.environment(suite.instances[0]!);
  for (let i = 0; i < 10; i++) {
    const started = performance.now();
    const workspace = await containers.createWorkspace(environment);
    creation.push(performance.now() - started);
    await workspace.destroy();
  }
  const stats = (values: number[], digits = 0) => {
    const sorted = [...values].sort((a, b) => a - b);
    return { min: +sorted[0]!.toFixed(digits), median: +sorted[Math.floor(sorted.length / 2)]!.toFixed(digits), max: +sorted.at(-1)!.toFixed(digits) };
  };
  return {
    container: { engine: name, image },
    container_grade_ms: stats(containerMs),
    bwrap_grade_ms: stats(bwrapMs),
    container_over_bwrap_per_instance: stats(ratios, 2),
    container_total_over_bwrap_total: +(containerMs.reduce((a, b) => a + b) / bwrapMs.reduce((a, b) => a + b)).toFixed(2),
    container_workspace_ms: stats(creation),
  };
}
