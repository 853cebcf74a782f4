import { closeSync, openSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeStaleDisks } from '../../src/sandbox/_disk.ts';
import { gitEnv } from '../../src/sandbox/_git.ts';
import { bwrapAvailable, createSandbox, prepareEnvironment } from '../../src/sandbox/index.ts';
import type { Limits, PreparedEnvironment, Workspace } from '../../src/sandbox/index.ts';
import { scratchDir, smallRepoFiles, writeFiles } from './_fixtures.ts';

const isRoot = process.getuid?.() === 0;
const SOURCES = resolve(import.meta.dirname, '../../src/sandbox/index.ts');

/** Bytes and entries under a host directory, symlinks not followed. */
async function usage(dir: string): Promise<{ bytes: number; entries: number }> {
  let bytes = 0;
  let entries = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    entries++;
    if (entry.isFile()) bytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return { bytes, entries };
}

async function mountedAt(dir: string): Promise<boolean> {
  const table = await readFile('/proc/self/mountinfo', 'utf8');
  return table.split('\n').some((line) => line.split(' ')[4] === dir);
}

describe.skipIf(!(await bwrapAvailable()))('bwrap sandbox hardening', () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let environment: PreparedEnvironment;
  const workspaces: Workspace[] = [];

  beforeAll(async () => {
    scratch = await scratchDir('hardening');
    await writeFiles(join(scratch.path, 'repo'), smallRepoFiles(20));
    environment = await prepareEnvironment({ repoDir: join(scratch.path, 'repo'), key: 'hardening' }, { cacheDir: join(scratch.path, 'cache') });
  });
  afterAll(async () => {
    await Promise.all(workspaces.map((workspace) => workspace.destroy()));
    await scratch?.cleanup();
  });

  async function workspaceWith(limits: Partial<Limits>, options: { hiddenPaths?: string[] } = {}): Promise<Workspace> {
    const workspace = await createSandbox('bwrap', { workDir: join(scratch.path, 'work'), limits, ...options }).createWorkspace(environment);
    workspaces.push(workspace);
    return workspace;
  }

  it('passes only descriptors 0-2 on: one the harness inherited cannot be read or written inside', async () => {
    const secret = join(scratch.path, 'inherited-secret.txt');
    const sink = join(scratch.path, 'inherited-sink.txt');
    await writeFile(secret, 'inherited-gold-patch');
    await writeFile(sink, '');
    const script = join(scratch.path, 'inherit.ts');
    await writeFile(
      script,
      `import { createSandbox, prepareEnvironment } from ${JSON.stringify(SOURCES)};\n` +
        `const [repo, cache, work] = process.argv.slice(2);\n` +
        `const environment = await prepareEnvironment({ repoDir: repo, key: 'inherit' }, { cacheDir: cache });\n` +
        `const workspace = await createSandbox('bwrap', { workDir: work }).createWorkspace(environment);\n` +
        `const probe = 'import os\\nopen_fds = []\\nfor fd in range(3, 1024):\\n    try:\\n        os.fstat(fd)\\n        open_fds.append(fd)\\n    except OSError:\\n        pass\\nprint("open", open_fds)';\n` +
        `const result = await workspace.exec('cat <&3; echo pwned >&4; python3 -c "$PROBE"', { timeoutMs: 20_000, env: { PROBE: probe } });\n` +
        `await workspace.destroy();\n` +
        `console.log(JSON.stringify(result));\n`,
    );
    const read = openSync(secret, 'r');
    const write = openSync(sink, 'w');
    try {
      // The child holds them as 3 and 4 without close-on-exec, as a harness started by a careless parent would.
      const child = await execa(process.execPath, [script, join(scratch.path, 'repo'), join(scratch.path, 'cache-inherit'), join(scratch.path, 'work-inherit')], {
        stdio: ['ignore', 'pipe', 'pipe', read, write] as ['ignore', 'pipe', 'pipe', 3, 4],
        reject: false,
      });
      expect(child.exitCode, String(child.stderr)).toBe(0);
      const result = JSON.parse(String(child.stdout).trim().split('\n').at(-1)!) as { output: string };
      expect(result.output).not.toContain('inherited-gold-patch');
      expect(result.output).toMatch(/Bad file descriptor/);
      expect(result.output).toContain('open []');
      expect(await readFile(sink, 'utf8')).toBe('');
    } finally {
      closeSync(read);
      closeSync(write);
    }
  });

  describe.skipIf(!isRoot)('a bounded disk per workspace (mounting needs root)', () => {
    it('stops a disk-filling loop at the workspace size, and the workspace works again once cleared', async () => {
      const workspace = await workspaceWith({ diskMb: 64, maxInodes: 10_000, maxFileMb: 32 });
      expect(await mountedAt(dirname(workspace.dir))).toBe(true);
      // The filesystem holds the repository copy plus the limit.
      const base = await usage(dirname(workspace.dir));
      const result = await workspace.exec(
        'i=0; while head -c 1048576 /dev/zero > fill.$i 2>/dev/null; do i=$((i+1)); done; echo "wrote $i"; : > one-more 2>&1; df -k . | tail -1',
        { timeoutMs: 60_000 },
      );
      const written = Number(/wrote (\d+)/.exec(result.output)?.[1]);
      expect(written).toBeGreaterThan(10);
      expect(written).toBeLessThanOrEqual(64);
      const host = await usage(dirname(workspace.dir));
      expect(host.bytes - base.bytes).toBeLessThanOrEqual(64 * 1024 * 1024);
      console.log(`disk-filling loop: ${written} MB written before ENOSPC, ${Math.round(host.bytes / 1e6)} MB on the host, ${result.durationMs} ms`);
      const cleared = await workspace.exec('rm -f fill.* && echo ok > after.txt && cat after.txt', { timeoutMs: 10_000 });
      expect(cleared.output).toBe('ok\n');
    });

    it('stops 100,000 small files at the inode limit', async () => {
      const workspace = await workspaceWith({ diskMb: 256, maxInodes: 5_000 });
      const base = await usage(dirname(workspace.dir));
      const result = await workspace.exec(
        'mkdir many && cd many && n=0; for i in $(seq 1 100000); do : > "f$i" 2>/dev/null || break; n=$i; done; echo "made $n"; : > last',
        { timeoutMs: 120_000 },
      );
      const made = Number(/made (\d+)/.exec(result.output)?.[1]);
      expect(result.output).toMatch(/No space left on device/);
      expect(made).toBeLessThan(5_000);
      expect(made).toBeGreaterThan(1_000);
      expect((await usage(dirname(workspace.dir))).entries - base.entries).toBeLessThanOrEqual(5_000);
      console.log(`100,000 small files: ${made} made before the inode limit, ${result.durationMs} ms`);
      const started = performance.now();
      await workspace.destroy();
      console.log(`destroying it: ${Math.round(performance.now() - started)} ms`);
      await expect(stat(dirname(workspace.dir))).rejects.toThrow();
    });

    it('unmounts what a harness killed with SIGKILL left mounted, once another one starts', async () => {
      const script = join(scratch.path, 'killed.ts');
      await writeFile(
        script,
        `import { createSandbox, prepareEnvironment } from ${JSON.stringify(SOURCES)};\n` +
          `const environment = await prepareEnvironment({ repoDir: process.argv[2], key: 'killed' }, { cacheDir: process.argv[3] });\n` +
          `const workspace = await createSandbox('bwrap', { workDir: process.argv[4] }).createWorkspace(environment);\n` +
          `console.log(workspace.dir);\n` +
          `setInterval(() => {}, 1000);\n`,
      );
      const child = execa(process.execPath, [script, join(scratch.path, 'repo'), join(scratch.path, 'cache-killed'), join(scratch.path, 'work-killed')], { reject: false });
      const dir = await new Promise<string>((done) => child.stdout!.on('data', (chunk: Buffer) => done(String(chunk).trim())));
      const home = dirname(dir);
      expect(await mountedAt(home)).toBe(true);
      child.kill('SIGKILL');
      await child;
      expect(await mountedAt(home)).toBe(true);
      await removeStaleDisks();
      expect(await mountedAt(home)).toBe(false);
      await expect(stat(home)).rejects.toThrow();
    });

    it('makes a diff on a full disk the workspace\'s outcome (oversized), not an error', async () => {
      const workspace = await workspaceWith({ diskMb: 48, maxFileMb: 64, maxDiffMb: 1024 });
      await workspace.exec('head -c 100000000 /dev/urandom > noise.bin 2>/dev/null; true', { timeoutMs: 60_000 });
      const diff = await workspace.diff();
      expect(diff.ok).toBe(false);
      if (!diff.ok) expect(diff.reason).toBe('oversized');
    });
  });

  it('turns a huge agent workspace (800 MB) into an oversized diff quickly, without the harness holding it in memory', async () => {
    const workspace = await workspaceWith({});
    const made = await workspace.exec('for i in 1 2 3 4 5 6 7 8; do head -c 104857600 /dev/zero > junk$i.bin || exit 1; done; du -sm . | cut -f1', {
      timeoutMs: 120_000,
    });
    expect(made.exitCode, made.output).toBe(0);
    expect(Number(made.output.trim())).toBeGreaterThanOrEqual(800);
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const diff = await workspace.diff();
    const elapsed = performance.now() - started;
    const growth = process.memoryUsage().rss - rssBefore;
    expect(diff.ok).toBe(false);
    if (!diff.ok) expect(diff.message).toMatch(/too large/);
    expect(growth).toBeLessThan(100 * 1024 * 1024);
    console.log(`800 MB workspace: diff refused in ${Math.round(elapsed)} ms, rss +${Math.round(growth / 1e6)} MB`);
    // A small change next to ignored build output still diffs.
    await workspace.exec('rm -f junk*.bin && mkdir -p build && head -c 104857600 /dev/zero > build/out.bin && echo fix >> src/calc.py', { timeoutMs: 60_000 });
    const small = await workspace.diff();
    expect(small.ok && small.patch).toContain('+fix');
  });

  describe.skipIf(!isRoot)('only the system paths a runner needs (placing files under /usr needs root)', () => {
    const root = `/usr/local/share/bench-test-${process.pid}`;
    const outsideAllowList = `/usr/src/bench-test-${process.pid}`;
    const savedResults = process.env.BENCH_RESULTS_DIR;

    beforeAll(async () => {
      await mkdir(join(root, 'checkout', 'tasks'), { recursive: true });
      await writeFile(join(root, 'checkout', 'tasks', 'gold.patch'), 'the-gold-patch');
      await mkdir(join(root, 'results'), { recursive: true });
      await writeFile(join(root, 'results', 'bench.db'), 'the-results');
      await writeFile(join(root, 'dataset.jsonl'), 'the-dataset');
      await mkdir(outsideAllowList, { recursive: true });
      await writeFile(join(outsideAllowList, 'secret'), 'the-source-tree');
    });
    afterAll(async () => {
      if (savedResults === undefined) delete process.env.BENCH_RESULTS_DIR;
      else process.env.BENCH_RESULTS_DIR = savedResults;
      await rm(root, { recursive: true, force: true });
      await rm(outsideAllowList, { recursive: true, force: true });
    });

    it('hides a checkout, task files, a dataset and results placed under /usr, and the rest of /usr outside what runners use', async () => {
      process.env.BENCH_RESULTS_DIR = join(root, 'results');
      const workspace = await workspaceWith({}, { hiddenPaths: [join(root, 'checkout'), join(root, 'dataset.jsonl')] });
      const result = await workspace.exec(
        `cat ${root}/checkout/tasks/gold.patch ${root}/results/bench.db ${root}/dataset.jsonl ${outsideAllowList}/secret 2>&1; ` +
          `ls -A ${root}/checkout ${root}/results; echo "python $(python3 -c 'print(1)') git $(git --version | cut -d" " -f1)"; true`,
        { timeoutMs: 10_000 },
      );
      for (const secret of ['the-gold-patch', 'the-results', 'the-dataset', 'the-source-tree']) expect(result.output).not.toContain(secret);
      expect(result.output).toContain('python 1 git git');
      const write = await workspace.exec(`echo pwned > ${root}/checkout/new 2>&1; echo pwned > ${root}/dataset.jsonl 2>&1; true`, { timeoutMs: 10_000 });
      expect(write.output).toMatch(/Read-only file system/);
      expect(await readFile(join(root, 'dataset.jsonl'), 'utf8')).toBe('the-dataset');
    });
  });

  it('points the host-side git at an empty private config file, never /dev/null or another shared path', async () => {
    const env = gitEnv();
    expect(env.GIT_CONFIG_NOSYSTEM).toBe('1');
    const config = env.GIT_CONFIG_GLOBAL!;
    expect(config.startsWith('/dev/')).toBe(false);
    const found = await stat(config);
    expect(found.isFile() && found.size === 0 && (found.mode & 0o222) === 0).toBe(true);
    expect(found.uid).toBe(process.getuid?.());
    // git reads that file as the global config and finds nothing in it.
    const listed = await execa('git', ['config', '--global', '--list', '--show-origin'], { env, extendEnv: false, reject: false });
    expect(String(listed.stdout)).toBe('');
  });

  it('shows an /etc of only the entries runners need, read-only, with the host\'s own users and library cache', async () => {
    const workspace = await workspaceWith({});
    const result = await workspace.exec('ls -A /etc | tr "\\n" " "; echo; cat /etc/passwd; echo pwned > /etc/passwd 2>&1; echo pwned > /etc/new 2>&1; getent passwd root; python3 -c "import ssl; print(1)"; true', {
      timeoutMs: 10_000,
    });
    const [listing] = result.output.split('\n');
    expect(listing).toContain('passwd');
    expect(listing).toContain('ld.so.cache');
    for (const absent of ['shadow', 'gshadow', 'sudoers', 'ssh', 'hostname', 'machine-id']) expect(listing!.split(' ')).not.toContain(absent);
    expect(result.output).toContain(await readFile('/etc/passwd', 'utf8'));
    expect(result.output.match(/Read-only file system/g)?.length).toBe(2);
    expect(result.output).toMatch(/^root:/m);
    expect(result.output).toMatch(/^1$/m);
  });

  it('gives the sandbox its own /dev: the standard devices as devices, nothing of the host', async () => {
    const workspace = await workspaceWith({});
    const result = await workspace.exec('ls /dev | tr "\\n" " "; echo; stat -c "%F" /dev/null /dev/zero; echo x > /dev/null; wc -c < /dev/null', {
      timeoutMs: 10_000,
    });
    const [listing] = result.output.split('\n');
    expect(listing).toContain('null');
    expect(listing).not.toMatch(/\b(vda|sda|nvme0|kmsg|mem|port)\b/);
    expect(result.output).toContain('character special file\ncharacter special file\n0\n');
  });
});
