import { createServer } from 'node:net';
import type { AddressInfo, Server } from 'node:net';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, prepareEnvironment, swebenchImage, imageFor } from '../../src/sandbox/index.ts';
import type { PreparedEnvironment, Sandbox, Workspace } from '../../src/sandbox/index.ts';
import { benchContainers, podman, swebenchLayoutImage, testEngine, toolchainImage } from '../helpers/container-images.ts';
import { DENIED_PROBES, SYSCALL_PROBE, patchOf, processesWith, repoWithFuture, scratchDir, smallRepoFiles, writeFiles } from './_fixtures.ts';

// The container backend under the same attacks as bwrap, through real podman containers.
const HARNESS_REPO = resolve(import.meta.dirname, '../..');
const LIMITS = { memoryMb: 256, maxProcesses: 64, maxOutputBytes: 1024 * 1024, maxFileMb: 16 };
const { engine, reason } = await testEngine();
if (reason) console.warn(`container sandbox tests skipped: ${reason}`);

describe('image names', () => {
  it('follow SWE-bench naming for SWE-bench rows, --image with its placeholder, the instance field, else the toolchain image', () => {
    expect(swebenchImage('django__django-11099')).toBe('swebench/sweb.eval.x86_64.django_1776_django-11099:latest');
    expect(imageFor({ instanceId: 'astropy__astropy-12907', swebench: true })).toBe('swebench/sweb.eval.x86_64.astropy_1776_astropy-12907:latest');
    expect(imageFor({ instanceId: 'Org__Repo-1', swebench: true }, 'registry.example/eval.{instance_id}:v1')).toBe('registry.example/eval.org__repo-1:v1');
    expect(imageFor({ instanceId: 'x-1', image: 'mine:1', swebench: true })).toBe('mine:1');
    expect(imageFor({ instanceId: 'benchlab__csvkit-1', swebench: false })).toBe('bench-toolchain:node24-python3');
  });
});

describe.skipIf(!engine)('podman sandbox under attack', () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let environment: PreparedEnvironment;
  let sandbox: Sandbox;
  let workspace: Workspace;
  const savedKey = process.env.LLM_API_KEY;
  const label = `container-test-${process.pid}`;

  beforeAll(async () => {
    process.env.LLM_API_KEY = 'sk-test-secret';
    scratch = await scratchDir('container');
    await writeFiles(join(scratch.path, 'repo'), smallRepoFiles(30));
    const host = await prepareEnvironment(
      { repoDir: join(scratch.path, 'repo'), key: 'container-adversarial', install: 'mkdir -p node_modules/dep && echo shared > node_modules/dep/index.js' },
      { cacheDir: join(scratch.path, 'cache') },
    );
    sandbox = createSandbox('podman', { limits: LIMITS, image: await toolchainImage(engine!), runLabel: label });
    environment = await sandbox.prepare({ instanceId: 'adversarial', swebench: false, host: async () => host });
    workspace = await sandbox.createWorkspace(environment);
  }, 120_000);

  afterAll(async () => {
    if (savedKey === undefined) delete process.env.LLM_API_KEY;
    else process.env.LLM_API_KEY = savedKey;
    await workspace?.destroy();
    await scratch?.cleanup();
    expect(await benchContainers(engine!, label)).toEqual([]);
  });

  it('holds the prepared base as one commit at the image working directory, and diffs changes with git inside', async () => {
    const log = await workspace.exec('pwd; git log --oneline --all | wc -l; cat node_modules/dep/index.js; git status --porcelain', { timeoutMs: 20_000 });
    expect(log.output).toBe('/testbed\n1\nshared\n');
    await workspace.exec('printf "def add(a, b):\\n    return a + b\\n" > src/calc.py; echo new > added.txt; mkdir -p __pycache__; echo x > __pycache__/c.pyc', { timeoutMs: 20_000 });
    const diff = await patchOf(workspace);
    expect(diff).toContain('diff --git a/src/calc.py b/src/calc.py');
    expect(diff).toContain('+    return a + b');
    expect(diff).toContain('diff --git a/added.txt b/added.txt');
    expect(diff).not.toContain('__pycache__');
    expect(diff).not.toContain('node_modules');
    // The repository's own index is untouched by reading the diff.
    expect((await workspace.exec('git diff --cached --name-only', { timeoutMs: 20_000 })).output).toBe('');
    await workspace.exec('git checkout -q -- . && rm -rf added.txt __pycache__', { timeoutMs: 20_000 });
    expect(await patchOf(workspace)).toBe('');
  });

  it('hands out a host copy of the repository whose committed edits and removals become real inside', async () => {
    const view = await workspace.checkout();
    expect(await readFile(join(view.dir, 'src/calc.py'), 'utf8')).toContain('return a - b');
    await expect(stat(join(view.dir, '.git'))).rejects.toThrow();
    await writeFile(join(view.dir, 'src/calc.py'), 'def add(a, b):\n    return a + b\n');
    await rm(join(view.dir, 'README.md'));
    await view.commit(['src/calc.py', 'README.md']);
    const inside = await workspace.exec('cat src/calc.py; test -e README.md || echo gone', { timeoutMs: 10_000 });
    expect(inside.output).toBe('def add(a, b):\n    return a + b\ngone\n');
    expect(await patchOf(workspace)).toMatch(/deleted file mode[\s\S]*\+    return a \+ b/);
    await workspace.exec('git checkout -q -- .', { timeoutMs: 10_000 });
  });

  it('hides the parent environment and the host: an API key and a file in the home are not visible', async () => {
    const secretPath = join(homedir(), `.bench-secret-${process.pid}`);
    await writeFile(secretPath, 'home-secret-content');
    try {
      const result = await workspace.exec(`echo "[\${LLM_API_KEY:-}]"; env; cat /proc/[0-9]*/environ 2>/dev/null | tr "\\0" "\\n"; cat ${secretPath}; ls -A ${homedir()}`, { timeoutMs: 10_000 });
      expect(result.output).toContain('[]');
      expect(result.output).not.toContain('sk-test-secret');
      expect(result.output).not.toContain('home-secret-content');
    } finally {
      await rm(secretPath, { force: true });
    }
  });

  it('cannot write to the host: the harness repo, the prepared base, the host root stay as they were', async () => {
    const hostPaths = [join(HARNESS_REPO, 'bench-evil'), join(environment.baseDir, 'bench-evil'), '/bench-evil-host'];
    const script = hostPaths.map((path) => `mkdir -p "$(dirname ${path})" 2>/dev/null; echo pwned > ${path} 2>/dev/null`).join('\n');
    await workspace.exec(`${script}\nln -s / to-root; echo pwned >> to-root/etc/passwd 2>/dev/null; rm -f to-root; true`, { timeoutMs: 10_000 });
    for (const path of hostPaths) await expect(stat(path)).rejects.toThrow();
    expect(await readFile('/etc/passwd', 'utf8')).not.toContain('pwned');
    expect(await readFile(join(HARNESS_REPO, 'package.json'), 'utf8')).toContain('"name": "bench"');
    await workspace.exec('git checkout -q -- . ; git clean -fdq', { timeoutMs: 10_000 });
  });

  it('runs with no network, no capabilities and no privilege gain', async () => {
    let connections = 0;
    const server: Server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((done) => server.listen(0, '0.0.0.0', done));
    const { port } = server.address() as AddressInfo;
    try {
      const result = await workspace.exec(
        `python3 -c "import socket; socket.create_connection(('127.0.0.1', ${port}), timeout=3)" 2>&1 | tail -1; ` +
          `node -e "require('net').connect(${port}, '10.0.2.2').on('connect', () => console.log('CONNECTED')).on('error', e => console.log(e.code))"; ` +
          'ls /sys/class/net; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status',
        { timeoutMs: 15_000 },
      );
      expect(result.output).not.toContain('CONNECTED');
      expect(result.output).toMatch(/Connection refused|ENETUNREACH|ECONNREFUSED|Network is unreachable/);
      expect(result.output.split('\n')).toContain('lo');
      expect(result.output).not.toMatch(/^eth/m);
      expect(result.output).toMatch(/CapEff:\s+0+\n/);
      expect(result.output).toMatch(/NoNewPrivs:\s+1/);
      expect(connections).toBe(0);
    } finally {
      server.close();
    }
  });

  it('refuses the same system calls as bwrap (ptrace, keyrings, bpf, perf, io_uring, unshare, mount), and no key reaches the host', async () => {
    const description = `bench-container-probe-${process.pid}-${Date.now()}`;
    const result = await workspace.exec(`cat > /tmp/probe.py && python3 /tmp/probe.py ${description}`, { timeoutMs: 30_000, stdin: SYSCALL_PROBE });
    expect(result.exitCode, result.output).toBe(0);
    const outcomes = JSON.parse(result.output.trim().split('\n').at(-1)!) as Record<string, string>;
    for (const probe of DENIED_PROBES) expect([probe, outcomes[probe]]).toEqual([probe, 'EPERM']);
    expect(await readFile('/proc/keys', 'utf8')).not.toContain(description);
  });

  it('bounds a fork bomb by the pids limit, returns at the timeout and leaves nothing running', async () => {
    const marker = `bench-forkbomb-${process.pid}`;
    const result = await workspace.exec(`: ${marker}; bomb() { bomb | bomb & bomb | bomb; }; bomb`, { timeoutMs: 3_000 });
    expect(result.timedOut || result.exitCode !== null).toBe(true);
    expect(result.durationMs).toBeLessThan(15_000);
    const inside = await workspace.exec('cat /sys/fs/cgroup/pids.current 2>/dev/null || cat /sys/fs/cgroup/pids/pids.current', { timeoutMs: 10_000 });
    expect(Number(inside.output.trim()), inside.output).toBeLessThanOrEqual(LIMITS.maxProcesses);
    expect(await processesWith(marker)).toEqual([]);
    expect((await workspace.exec('echo alive', { timeoutMs: 10_000 })).output).toBe('alive\n');
    console.log(`fork bomb in a container: ${result.durationMs} ms, timedOut ${result.timedOut}`);
  });

  it('kills the whole exec\'d tree at the timeout, a child in its own session included', async () => {
    const marker = `bench-loop-${process.pid}`;
    const result = await workspace.exec(`: ${marker}; setsid bash -c 'while :; do :; done; : ${marker}' & while :; do :; done`, { timeoutMs: 1_000 });
    expect(result).toMatchObject({ timedOut: true, exitCode: null });
    expect(result.durationMs).toBeLessThan(8_000);
    expect(await processesWith(marker)).toEqual([]);
  });

  it('returns quickly from printing gigabytes, keeping only the head and tail', async () => {
    const result = await workspace.exec('head -c 5G /dev/zero | tr "\\0" y', { timeoutMs: 60_000 });
    expect(result).toMatchObject({ outputLimited: true, timedOut: false });
    expect(result.durationMs).toBeLessThan(30_000);
    expect(result.output.length).toBeLessThan(LIMITS.maxOutputBytes + 200);
    expect(await processesWith('head -c 5G /dev/zero')).toEqual([]);
  });

  it('bounds a file by the file size limit and memory by the memory limit', async () => {
    const file = await workspace.exec('cat /dev/zero > big.bin; echo "exit $?"; stat -c %s big.bin; rm -f big.bin', { timeoutMs: 30_000 });
    expect(file.output).toMatch(/exit 153/);
    expect(file.output).toContain(String(LIMITS.maxFileMb * 1024 * 1024));
    const memory = await workspace.exec('python3 -c "b = bytearray(1024 * 1024 * 1024); print(len(b))"', { timeoutMs: 30_000 });
    expect(memory.exitCode).not.toBe(0);
    expect(memory.output).not.toContain(String(1024 * 1024 * 1024));
  });

  it('removes the container on destroy; a container that dies mid-attempt is an error naming the instance', async () => {
    const doomed = (await sandbox.createWorkspace(environment)) as Workspace & { container: string };
    await podman(engine!, ['rm', '-f', doomed.container]);
    await expect(doomed.exec('echo hi', { timeoutMs: 10_000 })).rejects.toThrow(/container of instance .* stopped/);
    await doomed.destroy();
    const kept = (await sandbox.createWorkspace(environment)) as Workspace & { container: string };
    expect((await podman(engine!, ['container', 'exists', kept.container])).exitCode).toBe(0);
    await kept.destroy();
    expect((await podman(engine!, ['container', 'exists', kept.container])).exitCode).not.toBe(0);
  });
});

describe.skipIf(!engine)('podman sandbox on a SWE-bench-layout image', () => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;

  beforeAll(async () => {
    scratch = await scratchDir('container-swebench');
  });
  afterAll(async () => {
    await scratch?.cleanup();
  });

  it('reduces /testbed to one base commit (no future commit, tag or remote) and runs commands in the testbed environment', async () => {
    const repo = join(scratch.path, 'repo');
    await repoWithFuture(repo, smallRepoFiles(10));
    const image = await swebenchLayoutImage(engine!, 'sandbox-layout', repo);
    const sandbox = createSandbox('podman', { image });
    const environment = await sandbox.prepare({ instanceId: 'layout-1', swebench: true, host: async () => { throw new Error('an image holding the repository needs no host copy'); } });
    const [a, b] = [await sandbox.createWorkspace(environment), await sandbox.createWorkspace(environment)];
    try {
      expect(a.root).toBe('/testbed');
      expect(a.baseCommit).toMatch(/^[0-9a-f]{40}$/);
      expect(b.baseCommit).toBe(a.baseCommit);
      const seen = await a.exec('git log --all --oneline | wc -l; git tag; git remote; git reflog | wc -l; git cat-file -t v-future 2>&1 | tail -1; grep -r THE-FUTURE-FIX . | wc -l; echo "env=$CONDA_DEFAULT_ENV"; command -v python', { timeoutMs: 20_000 });
      expect(seen.output).toMatch(/^1\n0\n.*\nenv=testbed\n\/opt\/miniconda3\/envs\/testbed\/bin\/python\n$/s);
      expect(seen.output).not.toContain('origin');
      await a.exec('echo "# changed" >> README.md', { timeoutMs: 10_000 });
      expect(await patchOf(a)).toContain('+# changed');
      expect(await patchOf(b)).toBe('');
    } finally {
      await a.destroy();
      await b.destroy();
    }
  }, 180_000);
});
