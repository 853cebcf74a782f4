import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import { loadSuite } from '../../src/tasks/index.ts';
import { BENCH_BIN, bench } from '../helpers/cli.ts';
import { benchContainers, podman, swebenchLayoutImage, testEngine, toolchainImage } from '../helpers/container-images.ts';
import { startOracleModel } from '../helpers/oracle-model.ts';

// `bench` itself, as a user runs it, with --sandbox podman: grading, agents, interruptions, bad input.
const { engine, reason } = await testEngine();
if (reason) console.warn(`container end-to-end tests skipped: ${reason}`);

/** Two node:test repositories and the Python one (all 31: see the README's container section). */
const SUBSET = ['benchlab__csvkit-1', 'benchlab__semverlite-5', 'benchlab__iniconf-6'];
const made: string[] = [];
let image: string;
let cacheDir: string;

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-container-e2e-'));
  made.push(dir);
  return dir;
}

function env(extra: Record<string, string> = {}) {
  return { BENCH_CACHE_DIR: cacheDir, BENCH_RESULTS_DIR: join(cacheDir, 'results'), CI: '1', ...extra };
}

function rows(db: string, sql: string, ...params: unknown[]): Record<string, any>[] {
  const raw = new Database(db, { readonly: true });
  try {
    return raw.prepare(sql).all(...params) as Record<string, any>[];
  } finally {
    raw.close();
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A config naming the oracle model, which answers each instance with its gold patch through the bash agent. */
async function oracleProject(latencyMs = 0) {
  const oracle = await startOracleModel({ latencyMs, usage: { input: 900, output: 60 } });
  onTestFinished(() => oracle.close());
  const dir = tempDir();
  const config = join(dir, 'config.toml');
  writeFileSync(config, `[llm.oracle]\nmodel = "openai/gpt-4o"\nbase_url = "${oracle.openaiUrl}"\napi_key = "sk-test-container-5b1e"\nnum_retries = 0\n`);
  return { dir, config, db: join(dir, 'bench.db'), oracle };
}

beforeAll(async () => {
  cacheDir = tempDir();
  if (engine) image = await toolchainImage(engine);
}, 300_000);

afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!engine)('bench eval --sandbox podman', () => {
  test('gold patches resolve built-in instances of both languages and empty patches none, leaving no container', async () => {
    const db = join(tempDir(), 'bench.db');
    const gold = await bench(['eval', '--predictions', 'gold', '--sandbox', 'podman', '--image', image, '--instances', SUBSET.join(','), '--db', db, '--run-id', 'gold', '-j', '2', '--json'], { env: env(), timeout: 600_000 });
    expect(gold.exitCode, gold.stderr).toBe(0);
    const summary = JSON.parse(gold.stdout);
    expect(summary.resolved_ids).toEqual([...SUBSET].sort());
    expect(rows(db, 'SELECT DISTINCT outcome FROM attempts')).toEqual([{ outcome: 'resolved' }]);
    const preds = join(tempDir(), 'empty.jsonl');
    writeFileSync(preds, SUBSET.map((id) => JSON.stringify({ instance_id: id, model_name_or_path: 'empty', model_patch: '' })).join('\n'));
    const empty = await bench(['eval', '--predictions', preds, '--sandbox', 'podman', '--image', image, '--instances', SUBSET.join(','), '--db', db, '--run-id', 'empty', '--json'], { env: env() });
    expect(JSON.parse(empty.stdout)).toMatchObject({ resolved_instances: 0, empty_patch_instances: SUBSET.length });
    expect(await benchContainers(engine!, 'gold')).toEqual([]);
  }, 600_000);

  test('a SWE-bench-layout image grades its gold patch resolved and a wrong one not, in the testbed environment, without a host checkout of the base', async () => {
    const dir = tempDir();
    const source = loadSuite().instances.find((i) => i.instance_id === 'benchlab__iniconf-1')!;
    // The repository as SWE-bench's images hold it: with its history, a later commit, a tag and a remote.
    const repo = join(dir, 'benchlab__iniconf');
    await execa('cp', ['-a', `${source.source.kind === 'suite' ? source.source.repoDir : ''}/.`, repo]);
    const git = (...args: string[]) => execa('git', args, {
      cwd: repo,
      // Fixed identity and dates: the same repository every run, so its image is built once and reused.
      env: { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t', GIT_AUTHOR_DATE: '2020-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2020-01-01T00:00:00Z' },
    });
    await git('init', '-q', '-b', 'main');
    await git('add', '-A');
    await git('commit', '-qm', 'base');
    const base = (await git('rev-parse', 'HEAD')).stdout.trim();
    await execa('git', ['apply', '-'], { cwd: repo, input: source.patch });
    await git('commit', '-qam', 'the fix, from the future');
    await git('tag', 'v-future');
    await git('remote', 'add', 'origin', 'https://example.invalid/iniconf.git');
    await git('reset', '-q', '--hard', base);
    const swebImage = await swebenchLayoutImage(engine!, 'sweb.eval.x86_64.benchlab__iniconf-1', repo);
    // `python` exists only in the testbed conda environment, so the tests pass only if commands run in it.
    const row = { ...source, source: undefined, contentHash: undefined, base_commit: base, test_cmd: 'python -m unittest -v' };
    const dataset = join(dir, 'swebench.jsonl');
    writeFileSync(dataset, `${JSON.stringify(row)}\n`);
    const wrong = 'diff --git a/NOTES.md b/NOTES.md\nnew file mode 100644\n--- /dev/null\n+++ b/NOTES.md\n@@ -0,0 +1 @@\n+not a fix\n';
    const db = join(dir, 'bench.db');
    // The template's placeholder is filled with the instance id, lower-cased as image names must be.
    const template = swebImage.replace('benchlab__iniconf-1', '{instance_id}');
    for (const [model, patch] of [['gold', source.patch], ['wrong', wrong], ['empty', '']] as const) {
      const preds = join(dir, `${model}.jsonl`);
      writeFileSync(preds, `${JSON.stringify({ instance_id: source.instance_id, model_name_or_path: model, model_patch: patch })}\n`);
      const result = await bench(['eval', '--predictions', preds, '--dataset', dataset, '--repos-dir', dir, '--sandbox', 'podman', '--image', template, '--db', db, '--run-id', 'sweb', '--json'], { env: env() });
      expect(result.exitCode, result.stderr).toBe(0);
    }
    const outcomes = Object.fromEntries(rows(db, 'SELECT config_name, outcome FROM attempts').map((r) => [r.config_name, r.outcome]));
    expect(outcomes).toEqual({ gold: 'resolved', wrong: 'unresolved', empty: 'empty_patch' });
    const report = JSON.parse(readFileSync(join(cacheDir, 'results/runs/sweb/gold/benchlab__iniconf-1/report.json'), 'utf8'));
    expect(report['benchlab__iniconf-1']).toMatchObject({ patch_successfully_applied: true, resolved: true });
    // The image held the repository: nothing was exported from the clone on the host.
    expect(existsSync(join(cacheDir, 'repos', `benchlab__iniconf@${base}`))).toBe(false);
    expect(await benchContainers(engine!, 'sweb')).toEqual([]);
  }, 600_000);
});

describe.skipIf(!engine)('bench run --sandbox podman --agent bash', () => {
  test('the bash agent solves a built-in instance in a container, graded in a fresh one, and no container is left', async () => {
    const p = await oracleProject();
    const result = await bench(['run', '--config', p.config, '--configs', 'oracle', '--agent', 'bash', '--sandbox', 'podman', '--image', image, '--instances', 'benchlab__csvkit-2', '--db', p.db, '--run-id', 'agent'], { cwd: p.dir, env: env(), timeout: 300_000 });
    expect(result.exitCode, result.stderr).toBe(0);
    const [attempt] = rows(p.db, 'SELECT outcome, patch FROM attempts');
    expect(attempt!.outcome).toBe('resolved');
    expect(attempt!.patch).toContain('diff --git');
    expect(p.oracle.answered.get('benchlab__csvkit-2')).toBeGreaterThanOrEqual(2);
    expect(await benchContainers(engine!, 'agent')).toEqual([]);
  }, 300_000);

  test('the patch agent reads the repository out of its container and its edit is graded resolved', async () => {
    const p = await oracleProject();
    const result = await bench(['run', '--config', p.config, '--configs', 'oracle', '--agent', 'patch', '--sandbox', 'podman', '--image', image, '--instances', 'benchlab__iniconf-2', '--db', p.db, '--run-id', 'patch-agent'], { cwd: p.dir, env: env(), timeout: 300_000 });
    expect(result.exitCode, result.stderr).toBe(0);
    expect(rows(p.db, 'SELECT outcome FROM attempts')).toEqual([{ outcome: 'resolved' }]);
    expect(await benchContainers(engine!, 'patch-agent')).toEqual([]);
  }, 300_000);

  test('Ctrl-C lets the episode in flight finish and leaves no container; SIGKILL leaves them for `bench sandbox gc`', async () => {
    const p = await oracleProject(1_500);
    const start = (runId: string) => execa(process.execPath, [BENCH_BIN, 'run', '--config', p.config, '--configs', 'oracle', '--agent', 'bash', '--sandbox', 'podman', '--image', image,
      '--instances', 'benchlab__csvkit-1', '-j', '1', '--db', p.db, '--run-id', runId], { cwd: p.dir, env: { ...process.env, ...env() }, reject: false });

    const interrupted = start('ctrl-c');
    await waitFor(async () => (await benchContainers(engine!, 'ctrl-c')).length > 0);
    interrupted.kill('SIGINT');
    const stopped = await interrupted;
    expect(stopped.exitCode, stopped.stderr).toBe(130);
    expect(await benchContainers(engine!, 'ctrl-c')).toEqual([]);

    const twice = start('twice');
    await waitFor(async () => (await benchContainers(engine!, 'twice')).length > 0);
    twice.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 50));
    twice.kill('SIGINT');
    expect((await twice).exitCode).toBe(130);
    expect(await benchContainers(engine!, 'twice')).toEqual([]);

    const killed = start('killed');
    await waitFor(async () => (await benchContainers(engine!, 'killed')).length > 0);
    killed.kill('SIGKILL');
    await killed;
    const left = await benchContainers(engine!, 'killed');
    expect(left.length).toBeGreaterThan(0);
    const gc = await bench(['sandbox', 'gc', '--sandbox', 'podman', '--json'], { env: env() });
    expect(gc.exitCode, gc.stderr).toBe(0);
    expect(JSON.parse(gc.stdout).podman.removed.length).toBeGreaterThanOrEqual(left.length);
    expect(await benchContainers(engine!, 'killed')).toEqual([]);
  }, 900_000);
});

describe.skipIf(!engine)('bad container input', () => {
  test('a missing engine is one paragraph naming the fix, exit 2, nothing written', async () => {
    const db = join(tempDir(), 'bench.db');
    const result = await bench(['eval', '--predictions', 'gold', '--sandbox', 'podman', '--db', db], { env: env({ BENCH_CONTAINER_ENGINE: '/nonexistent/podman' }) });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/container engine `\/nonexistent\/podman`.*BENCH_CONTAINER_ENGINE.*--sandbox bwrap/s);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(db)).toBe(false);
    const wrongBackend = await bench(['eval', '--predictions', 'gold', '--sandbox', 'bwrap', '--image', image, '--db', db], { env: env() });
    expect(wrongBackend.exitCode).toBe(2);
    expect(wrongBackend.stderr).toMatch(/--sandbox bwrap runs no images.*--sandbox docker or --sandbox podman/);
    const unknown = await bench(['eval', '--predictions', 'gold', '--sandbox', 'podmn', '--db', db], { env: env() });
    expect(unknown.stderr).toMatch(/--sandbox must be one of bwrap, local, docker, podman.*podman/);
  }, 300_000);

  test('a missing image is an infra_error attempt naming the instance and the pull command, with no container left', async () => {
    const db = join(tempDir(), 'bench.db');
    const missing = 'localhost/bench-test-absent:{instance_id}';
    const result = await bench(['eval', '--predictions', 'gold', '--sandbox', 'podman', '--image', missing, '--instances', 'benchlab__csvkit-1', '--db', db, '--run-id', 'noimage', '--json'], { env: env() });
    expect(result.exitCode, result.stderr).toBe(0);
    const [attempt] = rows(db, 'SELECT outcome, error FROM attempts');
    expect(attempt!.outcome).toBe('infra_error');
    expect(attempt!.error).toMatch(/Instance benchlab__csvkit-1 needs the container image localhost\/bench-test-absent:benchlab__csvkit-1, which is not present.*`podman pull localhost\/bench-test-absent:benchlab__csvkit-1`.*--sandbox bwrap/);
    expect(await benchContainers(engine!, 'noimage')).toEqual([]);
  }, 300_000);

  test('an engine refusing a limit flag, as rootless engines do, is an infra_error that says which and how to fix it', async () => {
    const dir = tempDir();
    // The real podman behind a client that refuses --pids-limit the way a rootless podman without the pids controller does.
    const shim = join(dir, 'podman');
    writeFileSync(shim, `#!/bin/bash\nfor a in "$@"; do if [ "$a" = --pids-limit ]; then echo 'Error: OCI runtime error: the requested cgroup controller \`pids\` is not available' >&2; exit 126; fi; done\nexec ${engine!.path} "$@"\n`);
    chmodSync(shim, 0o755);
    const db = join(dir, 'bench.db');
    const result = await bench(['eval', '--predictions', 'gold', '--sandbox', 'podman', '--image', image, '--instances', 'benchlab__csvkit-1', '--db', db, '--run-id', 'refused', '--json'], { env: env({ BENCH_CONTAINER_ENGINE: shim }) });
    expect(result.exitCode, result.stderr).toBe(0);
    const [attempt] = rows(db, 'SELECT outcome, error FROM attempts');
    expect(attempt!.outcome).toBe('infra_error');
    expect(attempt!.error).toMatch(/Starting a container from image .* failed: the engine said ".*pids.*".*refused one of the sandbox's limits.*--sandbox bwrap/);
    expect(await benchContainers(engine!, 'refused')).toEqual([]);
  }, 300_000);

  test('bench images check lists what a suite needs and exits 1 when one is missing; bench images build builds the toolchain image', async () => {
    const missing = await bench(['images', 'check', '--sandbox', 'podman', '--json'], { env: env() });
    const listed = JSON.parse(missing.stdout);
    expect(listed.images).toHaveLength(1);
    expect(listed.images[0]).toMatchObject({ image: 'bench-toolchain:node24-python3' });
    expect(listed.images[0].instances).toHaveLength(31);
    const present = await bench(['images', 'check', '--sandbox', 'podman', '--image', image], { env: env() });
    expect(present.exitCode).toBe(0);
    const tag = 'localhost/bench-test-built:latest';
    const built = await bench(['images', 'build', '--sandbox', 'podman', '--base', image, '--tag', tag], { env: env(), timeout: 300_000 });
    expect(built.exitCode, built.stderr).toBe(0);
    const inside = await podman(engine!, ['--runtime', 'runc', 'run', '--rm', '--network', 'none', '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=4096:4096', tag, 'bash', '-c', 'pwd; node --version; python3 --version; git --version']);
    expect(inside.stdout).toMatch(/^\/testbed\nv24\.\d+\.\d+\nPython 3\.\d+\.\d+\ngit version/);
  }, 300_000);
});
