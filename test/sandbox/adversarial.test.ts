import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bwrapAvailable, createSandbox, prepareEnvironment } from '../../src/sandbox/index.ts';
import type { PreparedEnvironment, Sandbox, Workspace } from '../../src/sandbox/index.ts';
import { patchOf, processesWith, scratchDir, smallRepoFiles, writeFiles } from './_fixtures.ts';

// Every case runs a hostile command through the real bwrap sandbox and checks it was contained.
const HARNESS_REPO = resolve(import.meta.dirname, '../..');
const LIMITS = { memoryMb: 256, maxProcesses: 64, maxOutputBytes: 1024 * 1024, maxFileMb: 16 };

describe.skipIf(!(await bwrapAvailable()))('bwrap sandbox under attack', () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let environment: PreparedEnvironment;
  let sandbox: Sandbox;
  let workDir: string;
  let workspace: Workspace;
  const savedKey = process.env.LLM_API_KEY;

  beforeAll(async () => {
    process.env.LLM_API_KEY = 'sk-test-secret';
    scratch = await scratchDir('adversarial');
    workDir = join(scratch.path, 'work');
    await writeFiles(join(scratch.path, 'repo'), smallRepoFiles(30));
    environment = await prepareEnvironment(
      { repoDir: join(scratch.path, 'repo'), key: 'adversarial', install: 'mkdir -p node_modules/dep && echo shared > node_modules/dep/index.js' },
      { cacheDir: join(scratch.path, 'cache') },
    );
    sandbox = createSandbox('bwrap', { workDir, limits: LIMITS });
    workspace = await sandbox.createWorkspace(environment);
  });

  afterAll(async () => {
    if (savedKey === undefined) delete process.env.LLM_API_KEY;
    else process.env.LLM_API_KEY = savedKey;
    await workspace?.destroy();
    await scratch?.cleanup();
  });

  it('hides the parent environment: an API key in the harness env is not visible', async () => {
    const result = await workspace.exec('echo "[${LLM_API_KEY:-}]"; env; cat /proc/[0-9]*/environ 2>/dev/null | tr "\\0" "\\n"', {
      timeoutMs: 10_000,
    });
    expect(result.output).toContain('[]');
    expect(result.output).not.toContain('sk-test-secret');
  });

  it("hides the user's home: a file there cannot be read", async () => {
    const secretPath = join(homedir(), `.bench-secret-${process.pid}`);
    await writeFile(secretPath, 'home-secret-content');
    try {
      const result = await workspace.exec(`cat ${secretPath}; ls -A ${homedir()}`, { timeoutMs: 10_000 });
      expect(result.exitCode).not.toBe(0);
      expect(result.output).not.toContain('home-secret-content');
      expect(result.output).toMatch(/No such file or directory/);
    } finally {
      await rm(secretPath, { force: true });
    }
  });

  it('cannot write outside the workspace: system dirs, the workspace parent, the harness repo, node', async () => {
    const readOnlyInside = ['/usr/bench-evil', '/etc/bench-evil', '/workspace/bench-evil', '/opt/node/bin/bench-evil', '/bench-evil'];
    const hostPaths = [join(workDir, 'bench-evil'), join(HARNESS_REPO, 'bench-evil'), join(environment.baseDir, 'bench-evil')];
    const targets = [...readOnlyInside, ...hostPaths];
    const script = targets.map((path) => `(mkdir -p "$(dirname ${path})"; echo pwned > ${path}) 2>/dev/null && echo "WROTE ${path}"`).join('\n');
    const result = await workspace.exec(`${script}\necho x >> /opt/node/bin/node && echo "WROTE node"; true`, { timeoutMs: 10_000 });
    for (const path of readOnlyInside) expect(result.output).not.toContain(`WROTE ${path}`);
    expect(result.output).not.toContain('WROTE node');
    for (const path of ['/usr/bench-evil', '/etc/bench-evil', ...hostPaths]) await expect(stat(path)).rejects.toThrow();
    expect((await stat(process.execPath)).size).toBeGreaterThan(1_000_000);
  });

  it('cannot write through a planted symlink that points outside the workspace', async () => {
    const victimDir = join(scratch.path, 'victim');
    const victim = join(victimDir, 'file.txt');
    await mkdir(victimDir, { recursive: true });
    await writeFile(victim, 'original');
    const result = await workspace.exec(
      `ln -s ${victim} to-file; ln -s ${victimDir} to-dir; ln -s ${join(HARNESS_REPO, 'package.json')} to-harness; ln -s / to-root\n` +
        'echo pwned > to-file; echo pwned > to-dir/file.txt; echo pwned > to-dir/new.txt; echo pwned > to-harness; echo pwned >> to-root/etc/passwd; true',
      { timeoutMs: 10_000 },
    );
    expect(result.exitCode).toBe(0);
    // The host follows none of them either: not the diff, not destroy.
    const diff = await patchOf(workspace);
    expect(diff).toContain('new file mode 120000');
    const throwaway = await sandbox.createWorkspace(environment);
    await throwaway.exec(`ln -s ${victimDir} to-dir`, { timeoutMs: 10_000 });
    await throwaway.destroy();
    expect(await readFile(victim, 'utf8')).toBe('original');
    expect(await readdir(victimDir)).toEqual(['file.txt']);
    expect(await readFile(join(HARNESS_REPO, 'package.json'), 'utf8')).toContain('"name": "bench"');
    expect(await readFile('/etc/passwd', 'utf8')).not.toContain('pwned');
  });

  it('cannot reach a loopback server on the host', async () => {
    let connections = 0;
    const server: Server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const { port } = server.address() as AddressInfo;
    try {
      const result = await workspace.exec(
        `python3 -c "import socket; socket.create_connection(('127.0.0.1', ${port}), timeout=3)" 2>&1 | tail -1; ` +
          `(exec 3<>/dev/tcp/127.0.0.1/${port}) && echo CONNECTED; ` +
          `node -e "require('net').connect(${port}, '127.0.0.1').on('connect', () => console.log('CONNECTED')).on('error', e => console.log(e.code))"`,
        { timeoutMs: 15_000 },
      );
      expect(result.output).not.toContain('CONNECTED');
      expect(result.output).toMatch(/Network is unreachable|Connection refused|ENETUNREACH|ECONNREFUSED/);
      expect(connections).toBe(0);
    } finally {
      server.close();
    }
  });

  it('bounds a fork bomb by the process limit, returns at the timeout and leaves nothing running', async () => {
    const marker = `bench-forkbomb-${process.pid}`;
    // Forked subshells keep the command line, so the marker counts the bomb's processes alone
    // (a host-wide count would also see whatever else the machine runs meanwhile).
    const count = async () => (await processesWith(marker)).length;
    const baseline = await count();
    let peak = baseline;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await count());
        await new Promise((done) => setTimeout(done, 100));
      }
    })();
    const result = await workspace.exec(`: ${marker}; bomb() { bomb | bomb & bomb | bomb; }; bomb`, { timeoutMs: 3_000 });
    sampling = false;
    await sampler;
    expect(result.timedOut || result.exitCode !== null).toBe(true);
    expect(result.durationMs).toBeLessThan(10_000);
    expect(peak - baseline).toBeLessThanOrEqual(LIMITS.maxProcesses + 10);
    expect(await processesWith(marker)).toEqual([]);
    expect((await workspace.exec('echo alive', { timeoutMs: 10_000 })).output).toBe('alive\n');
    console.log(`fork bomb: ${result.durationMs} ms, timedOut ${result.timedOut}, peak +${peak - baseline} processes on the host`);
  });

  it('kills an infinite loop at the timeout, with no stray process left', async () => {
    const marker = `bench-loop-${process.pid}`;
    const result = await workspace.exec(`: ${marker}; while :; do :; done & while :; do :; done`, { timeoutMs: 1_000 });
    expect(result).toMatchObject({ timedOut: true, exitCode: null });
    expect(result.durationMs).toBeLessThan(5_000);
    expect(await processesWith(marker)).toEqual([]);
  });

  it('returns quickly from printing gigabytes, keeping only the head and tail', async () => {
    const rssBefore = process.memoryUsage().rss;
    const result = await workspace.exec('head -c 5G /dev/zero | tr "\\0" y', { timeoutMs: 30_000 });
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    expect(result).toMatchObject({ outputLimited: true, timedOut: false });
    expect(result.durationMs).toBeLessThan(10_000);
    expect(result.output.length).toBeLessThan(LIMITS.maxOutputBytes + 200);
    expect(rssGrowth).toBeLessThan(200 * 1024 * 1024);
    console.log(`5 GB of output: returned in ${result.durationMs} ms, signal ${result.signal}, rss +${Math.round(rssGrowth / 1e6)} MB`);
  });

  it('bounds a single file by the file size limit when filling the disk', async () => {
    const result = await workspace.exec('cat /dev/zero > big.bin; echo "exit $?"; cat /dev/zero > /tmp/big.bin; echo "tmp exit $?"', {
      timeoutMs: 30_000,
    });
    expect(result.output).toMatch(/exit 153/);
    expect((await stat(join(workspace.dir, 'big.bin'))).size).toBe(LIMITS.maxFileMb * 1024 * 1024);
    console.log(`filling the disk: ${JSON.stringify(result.output)}`);
    await workspace.exec('rm -f big.bin', { timeoutMs: 10_000 });
  });

  it('bounds memory: a process allocating past the limit is killed', async () => {
    const result = await workspace.exec('python3 -c "b = bytearray(1024 * 1024 * 1024); print(len(b))"', { timeoutMs: 30_000 });
    expect(result.exitCode).not.toBe(0);
    expect(result.output).not.toContain(String(1024 * 1024 * 1024));
    console.log(`1 GB allocation under a ${LIMITS.memoryMb} MB limit: exit ${result.exitCode}, ${JSON.stringify(result.output.trim().split('\n').at(-1))}`);
  });

  it('survives the workspace being deleted from inside: destroy still works, nothing outside is harmed', async () => {
    const target = await sandbox.createWorkspace(environment);
    const sibling = join(workDir, 'sibling.txt');
    await writeFile(sibling, 'keep me');
    const result = await target.exec('rm -rf /workspace/repo/node_modules/dep; rm -rf /workspace/repo /workspace/repo/.[!.]* /workspace/repo/*; ls -A /workspace/repo', {
      timeoutMs: 10_000,
    });
    // The shared folder is a mount point: its contents may go (copy-on-write, or a read-only bind refusing), the folder stays.
    expect(result.output).toMatch(/Read-only file system|Device or resource busy/);
    expect(await readdir(target.dir)).toEqual(['node_modules']);
    await target.destroy();
    await expect(stat(target.dir)).rejects.toThrow();
    expect(await readFile(sibling, 'utf8')).toBe('keep me');
    expect(await readFile(join(environment.baseDir, 'node_modules/dep/index.js'), 'utf8')).toBe('shared\n');
    expect((await readdir(environment.baseDir)).length).toBeGreaterThan(5);
  });
});
