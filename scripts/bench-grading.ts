/**
 * Grading overhead: grades the gold patch of every built-in instance the way `bench eval -j N`
 * does, and compares the wall time with the raw test commands run directly on prepared
 * checkouts, N at a time (the baseline, measured in the same round with the same interpreters and
 * variables the sandbox gives its commands). For N = 1 and N = 2, each round runs the raw pass
 * and the graded pass back to back, in turn first (so neither always follows the other); the
 * ratios are shown as min / median / max over the rounds (9 unless --rounds: the machine's speed
 * moves by 10-25 % from one pass to the next, and a median of 5 moved with it by several
 * percent from one run of the script to the next). Beside each pass's wall time, the CPU
 * time the whole machine spent during it (from /proc/stat, where there is one): what grading
 * adds per instance, which at -j 2, with both cores busy with tests, is what the wall time pays.
 * With --windows, also where the time goes at -j 1: each test command prints the clock when it
 * starts and ends (both passes alike), and the sum of the test windows, the gaps between them, the
 * time to the first and after the last are shown for each pass, with each instance's window
 * inside the sandbox over its raw one.
 * Also workspace creation p50/p95, and on a generated repository of 3,000 files (30 MB) the
 * grading's `git status` with the index a grading gets against one read from the tree alone
 * (no stat data: git reads and hashes every tracked file), alternating, in one workspace. With a container engine (podman here, or --container docker)
 * and an image holding Node 24 and Python 3 (--image, default bench-toolchain:node24-python3),
 * also per-instance grading time in containers against bwrap, the two alternating instance by
 * instance, and container workspace creation p50/p95.
 * --jobs 2 (or 1) measures that level alone.
 *   node scripts/bench-grading.ts [--rounds N] [--jobs 1|2] [--windows] [--container podman|docker] [--image NAME] [--container-instances N] [--no-container | --container-only]
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import pLimit from 'p-limit';
import { loadSuite } from '../src/tasks/index.ts';
import { Grader } from '../src/grading/index.ts';
import { chooseSandbox } from '../src/runner/index.ts';
import { SANDBOXES, TOOLCHAIN_IMAGE, commandEnv, imageSandboxes, prepareEnvironment, type Sandbox } from '../src/sandbox/index.ts';
import { median, spread } from './_spread.ts';

const flag = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const rounds = Math.max(1, Number(flag('--rounds') || 9) || 9);
const cacheDir = mkdtempSync(join(tmpdir(), 'bench-grading-'));
const suite = loadSuite();
const sandbox = await chooseSandbox({ modelCode: true, warn: () => {} });
type Instance = (typeof suite.instances)[number];

// Warm-up: environments prepared once, as in any real run after the first, and one instance graded, so
// what a process does once (the runner-module list asked of python3, kept in the cache folder for
// later runs; the sandbox's and the cgroups' probes) is not counted against the first round.
const setupGrader = new Grader({ sandbox, cacheDir });
const environments = new Map(await Promise.all(suite.instances.map(async (i) => [i.instance_id, await setupGrader.environment(i)] as const)));
await setupGrader.grade(suite.instances[0]!, suite.instances[0]!.patch);

/** Checkouts with the gold and test patches applied on the host, made before the clock starts. */
async function rawCheckouts(): Promise<Map<string, string>> {
  const dirs = new Map<string, string>();
  for (const instance of suite.instances) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-raw-'));
    cpSync(environments.get(instance.instance_id)!.baseDir, dir, { recursive: true });
    await execa('git', ['apply', '-'], { cwd: dir, input: instance.patch });
    await execa('git', ['apply', '-'], { cwd: dir, input: instance.test_patch });
    dirs.set(instance.instance_id, dir);
  }
  return dirs;
}

/** CPU time the machine has spent, all processes, in ms (user, nice, system, irq, softirq, steal); undefined without /proc/stat. */
function machineCpuMs(): number | undefined {
  try {
    const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return (user! + nice! + system! + irq! + softirq! + steal!) * (1000 / 100);
  } catch {
    return undefined;
  }
}

type Pass = { ms: number; cpuMs: number | undefined; startedAt: number; outputs: Map<string, string> };

/** Times `run` (wall ms) and the machine's CPU meanwhile; `run` fills in each instance's test output. */
async function timed(run: (outputs: Map<string, string>) => Promise<unknown>): Promise<Pass> {
  const outputs = new Map<string, string>();
  const cpuBefore = machineCpuMs();
  const startedAt = performance.timeOrigin + performance.now();
  const started = performance.now();
  await run(outputs);
  const ms = performance.now() - started;
  const cpuAfter = machineCpuMs();
  return { ms, cpuMs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore, startedAt, outputs };
}

/** The raw test commands, `jobs` at a time, with the sandbox's interpreters and variables. */
async function rawPass(jobs: number, instances = suite.instances): Promise<Pass> {
  const dirs = await rawCheckouts();
  const home = mkdtempSync(join(tmpdir(), 'bench-raw-home-'));
  const limit = pLimit(jobs);
  const pass = await timed((outputs) => Promise.all(instances.map((instance) => limit(async () => {
    const run = await execa('bash', ['--norc', '--noprofile', '-c', `${instance.test_cmd} 2>&1`], { cwd: dirs.get(instance.instance_id)!, reject: false, extendEnv: false, env: commandEnv(home), stdin: 'ignore' });
    outputs.set(instance.instance_id, String(run.stdout));
  }))));
  for (const dir of [...dirs.values(), home]) rmSync(dir, { recursive: true, force: true });
  return pass;
}

/** Every gold patch graded as `bench eval -j jobs` grades. */
async function gradedPass(jobs: number, instances = suite.instances): Promise<Pass> {
  const grader = new Grader({ sandbox, cacheDir, jobs });
  const limit = pLimit(grader.inFlight!);
  return timed((outputs) => Promise.all(instances.map((instance) => limit(async () => {
    const grade = await grader.grade(instance, instance.patch);
    if (!grade.resolved) throw new Error(`gold did not resolve ${instance.instance_id}: ${grade.outcome} ${grade.error ?? ''}`);
    outputs.set(instance.instance_id, grade.log ?? '');
  }))));
}

/** The instances with test commands that print their own start and end on one last line (kept by the log's tail). */
const stampedInstances = suite.instances.map((instance) => ({
  ...instance,
  test_cmd: `started=$EPOCHREALTIME; ${instance.test_cmd}; status=$?; echo "@@tests $started $EPOCHREALTIME"; exit $status`,
}));

/** A pass's test windows: their sum, the gaps between them, the time to the first and after the last (ms), and each one's length by instance. */
function testWindows(pass: Pass) {
  const windows = [...pass.outputs].map(([id, output]) => {
    const stamp = /@@tests (\S+) (\S+)/.exec(output);
    if (!stamp) throw new Error(`${id}: its test command printed no start and end`);
    return { id, start: Number(stamp[1]) * 1000, end: Number(stamp[2]) * 1000 };
  }).sort((a, b) => a.start - b.start);
  return {
    tests_ms: Math.round(windows.reduce((sum, w) => sum + w.end - w.start, 0)),
    gaps_ms: Math.round(windows.slice(1).reduce((sum, w, k) => sum + w.start - windows[k]!.end, 0)),
    to_first_ms: Math.round(windows[0]!.start - pass.startedAt),
    after_last_ms: Math.round(pass.startedAt + pass.ms - windows.at(-1)!.end),
    byInstance: new Map(windows.map((w) => [w.id, w.end - w.start])),
  };
}

const stats = (values: number[], digits = 0) => spread(values, digits);

// --container-only: just the container figures (their bwrap baseline is measured beside them anyway).
const summary = process.argv.includes('--container-only') ? { instances: suite.instances.length } : await hostFigures();

async function hostFigures(): Promise<Record<string, unknown>> {
  const figures: Record<string, unknown> = { instances: suite.instances.length, sandbox: sandbox.kind, rounds, load_average_at_start: +loadavg()[0]!.toFixed(2) };
  for (const jobs of flag('--jobs') ? [Number(flag('--jobs'))] : [1, 2]) {
    const raw: number[] = [];
    const graded: number[] = [];
    const ratios: number[] = [];
    const extraCpu: number[] = [];
    for (let round = 0; round < rounds; round++) {
      // In turn first: whatever one pass leaves behind (caches warm, clean-up still running) falls on each alike.
      const [r, g] = round % 2 === 0
        ? [await rawPass(jobs), await gradedPass(jobs)]
        : await gradedPass(jobs).then(async (g) => [await rawPass(jobs), g] as const);
      raw.push(r.ms / 1000);
      graded.push(g.ms / 1000);
      ratios.push(g.ms / r.ms);
      if (r.cpuMs !== undefined && g.cpuMs !== undefined) extraCpu.push((g.cpuMs - r.cpuMs) / suite.instances.length);
    }
    figures[`j${jobs}`] = {
      raw_tests_seconds: stats(raw, 2), graded_seconds: stats(graded, 2), overhead_ratio: stats(ratios, 3),
      ...(extraCpu.length ? { machine_cpu_added_per_grading_ms: stats(extraCpu, 1) } : {}),
    };
  }
  if (process.argv.includes('--windows')) figures.j1_test_windows = await windowFigures();
  const creation: number[] = [];
  const environment = environments.get(suite.instances[0]!.instance_id)!;
  for (let i = 0; i < 60; i++) {
    const started = performance.now();
    const workspace = await sandbox.createWorkspace(environment);
    creation.push(performance.now() - started);
    await workspace.destroy();
  }
  creation.sort((a, b) => a - b);
  return {
    ...figures,
    target: 1.1,
    workspace_p50_ms: +creation[Math.floor(creation.length * 0.5)]!.toFixed(1),
    workspace_p95_ms: +creation[Math.floor(creation.length * 0.95)]!.toFixed(1),
    large_repo_git_status: await largeRepoStatus(),
  };
}

/** The grading's `git status` on a generated repository of 3,000 files, with the grading's index and with one read from the tree alone. */
async function largeRepoStatus(): Promise<Record<string, unknown>> {
  const root = mkdtempSync(join(tmpdir(), 'bench-large-'));
  const repoDir = join(root, 'repo');
  const files = 3000;
  for (let i = 0; i < files; i++) {
    mkdirSync(join(repoDir, 'src', `d${i % 50}`), { recursive: true });
    writeFileSync(join(repoDir, 'src', `d${i % 50}`, `m${i}.py`), `VALUE_${i} = ${i}\n`.repeat(700));
  }
  const large = await prepareEnvironment({ repoDir, key: 'large@base' }, { cacheDir: join(root, 'cache') });
  const workspace = await sandbox.createWorkspace(large);
  const gitDir = await workspace.gradingGit!({});
  // As the grading script runs it; the other index is made once, outside the clock.
  const status = 'git status --porcelain -z --no-renames --untracked-files=all --ignored=traditional > /dev/null';
  const script = [
    `export GIT_DIR=${gitDir} GIT_WORK_TREE="$PWD" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null`,
    'GIT_INDEX_FILE=/tmp/tree-only git read-tree HEAD || exit 1',
    'for round in 1 2 3 4 5; do',
    '  cp /tmp/tree-only /tmp/fresh || exit 1',
    `  a=$EPOCHREALTIME; ${status}; b=$EPOCHREALTIME; GIT_INDEX_FILE=/tmp/fresh ${status}; c=$EPOCHREALTIME`,
    '  echo "$a $b $c"',
    'done',
  ].join('\n');
  const run = await workspace.exec(script, { timeoutMs: 120_000 });
  await workspace.destroy();
  rmSync(root, { recursive: true, force: true });
  if (run.exitCode !== 0) throw new Error(`git status on the large repository failed: ${run.output}`);
  const rounds = run.output.trim().split('\n').map((line) => line.split(' ').map(Number));
  return {
    files,
    grading_index_ms: stats(rounds.map(([a, b]) => (b! - a!) * 1000), 1),
    tree_only_index_ms: stats(rounds.map(([, b, c]) => (c! - b!) * 1000), 1),
  };
}
console.log(JSON.stringify({ ...summary, ...(await containerFigures()) }, null, 2));

/** --windows: at -j 1, where the graded pass's time goes against the raw pass's, over up to 3 rounds (in turn first). */
async function windowFigures(): Promise<Record<string, unknown>> {
  const rows: { raw: ReturnType<typeof testWindows>; graded: ReturnType<typeof testWindows> }[] = [];
  for (let round = 0; round < Math.min(rounds, 3); round++) {
    const [raw, graded] = round % 2 === 0
      ? [await rawPass(1, stampedInstances), await gradedPass(1, stampedInstances)]
      : await gradedPass(1, stampedInstances).then(async (g) => [await rawPass(1, stampedInstances), g] as const);
    rows.push({ raw: testWindows(raw), graded: testWindows(graded) });
  }
  const figure = (key: 'tests_ms' | 'gaps_ms' | 'to_first_ms' | 'after_last_ms') => ({ raw: stats(rows.map((r) => r.raw[key])), graded: stats(rows.map((r) => r.graded[key])) });
  // Each instance's window in the sandbox over its raw one, the median over instances, per round.
  const inside = rows.map(({ raw, graded }) => median([...graded.byInstance].map(([id, ms]) => ms / raw.byInstance.get(id)!)));
  return {
    tests_ms: figure('tests_ms'), gaps_ms: figure('gaps_ms'), to_first_ms: figure('to_first_ms'), after_last_ms: figure('after_last_ms'),
    test_window_inside_over_raw_median_instance: stats(inside, 3),
  };
}
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
  const time = async (g: Grader, instance: Instance) => {
    const started = performance.now();
    const grade = await g.grade(instance, instance.patch);
    if (!grade.resolved) throw new Error(`${g.sandbox.kind}: gold did not resolve ${instance.instance_id}: ${grade.outcome} ${grade.error ?? ''}`);
    return performance.now() - started;
  };
  const bwrapMs: number[] = [];
  const containerMs: number[] = [];
  const ratios: number[] = [];
  // Prepared once (the image read, the host base made), as in a run after its first instance.
  // --container-instances N: the first N instances only (a container grading takes seconds).
  const compared = suite.instances.slice(0, Number(flag('--container-instances') || suite.instances.length) || suite.instances.length);
  for (const instance of compared) await inContainers.environment(instance);
  for (const instance of compared) {
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
  return {
    container: { engine: name, image, instances: compared.length },
    container_grade_ms: stats(containerMs),
    bwrap_grade_ms: stats(bwrapMs),
    container_over_bwrap_per_instance: stats(ratios, 2),
    container_total_over_bwrap_total: +(containerMs.reduce((a, b) => a + b) / bwrapMs.reduce((a, b) => a + b)).toFixed(2),
    container_workspace_ms: stats(creation),
  };
}
