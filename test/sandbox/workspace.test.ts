import { lstat, readdir, readFile, readlink, stat, writeFile, chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.ts';
import { bwrapAvailable, createSandbox, DEFAULT_LIMITS, prepareEnvironment } from '../../src/sandbox/index.ts';
import type { PreparedEnvironment, SandboxKind, Workspace } from '../../src/sandbox/index.ts';
import { patchOf, processesWith, repoWithFuture, scratchDir, smallRepoFiles, writeFiles } from './_fixtures.ts';

const INSTALL = 'mkdir -p node_modules/dep && echo "module.exports = 41 + 1;" > node_modules/dep/index.js';
const hasBwrap = await bwrapAvailable();
const kinds: SandboxKind[] = hasBwrap ? ['local', 'bwrap'] : ['local'];

let scratch: Awaited<ReturnType<typeof scratchDir>>;
let repoDir: string;
let cacheDir: string;
let workDir: string;
let environment: PreparedEnvironment;

beforeAll(async () => {
  scratch = await scratchDir('workspace-test');
  repoDir = join(scratch.path, 'repo');
  cacheDir = join(scratch.path, 'cache');
  workDir = join(scratch.path, 'work');
  await repoWithFuture(repoDir, smallRepoFiles(30));
  environment = await prepareEnvironment({ repoDir, key: 'demo@base', install: INSTALL }, { cacheDir });
});

afterAll(async () => {
  await scratch.cleanup();
});

describe('prepareEnvironment', () => {
  it('makes a base with one commit of the checkout, without the checkout history', async () => {
    const git = (...args: string[]) => execa('git', args, { cwd: environment.baseDir });
    expect((await git('log', '--all', '--format=%H')).stdout.trim()).toBe(environment.baseCommit);
    expect((await git('tag')).stdout).toBe('');
    expect((await git('remote')).stdout).toBe('');
    expect(await readFile(join(environment.baseDir, 'src/calc.py'), 'utf8')).not.toContain('THE-FUTURE-FIX');
    expect((await readdir(join(environment.baseDir, '.git'))).sort()).toEqual(['HEAD', 'config', 'index', 'info', 'objects', 'refs']);
  });

  it('gives the same base commit sha for the same content in another cache', async () => {
    const other = await prepareEnvironment({ repoDir, key: 'demo@base', install: INSTALL }, { cacheDir: join(scratch.path, 'cache2') });
    expect(other.baseCommit).toBe(environment.baseCommit);
    expect(other.baseDir).not.toBe(environment.baseDir);
  });

  it('keeps the directories the install created out of the base commit', async () => {
    const { stdout } = await execa('git', ['ls-files'], { cwd: environment.baseDir });
    expect(stdout.split('\n')).toHaveLength(30);
    expect(stdout).not.toContain('node_modules');
  });

  it('runs install once per key, shared by concurrent calls in this process and in other processes', async () => {
    const counter = join(scratch.path, 'install-count');
    const spec = { repoDir, key: 'counted', install: `echo run >> ${counter} && sleep 0.5 && mkdir -p .venv` };
    const shared = join(scratch.path, 'cache-shared');
    const script = `import { prepareEnvironment } from ${JSON.stringify(join(import.meta.dirname, '../../src/sandbox/index.ts'))};
      const env = await prepareEnvironment(${JSON.stringify(spec)}, { cacheDir: ${JSON.stringify(shared)} });
      console.log(env.baseCommit);`;
    const others = [1, 2].map(() => execa(process.execPath, ['--input-type=module', '-e', script]));
    const here = await Promise.all([prepareEnvironment(spec, { cacheDir: shared }), prepareEnvironment(spec, { cacheDir: shared })]);
    const fromOthers = await Promise.all(others);
    expect(here[0]).toEqual(here[1]);
    for (const result of fromOthers) expect(result.stdout.trim()).toBe(here[0].baseCommit);
    expect((await readFile(counter, 'utf8')).trim().split('\n')).toEqual(['run']);
    await prepareEnvironment(spec, { cacheDir: shared });
    expect((await readFile(counter, 'utf8')).trim().split('\n')).toEqual(['run']);
  });

  it('reports a failing install as a user error carrying its output, and leaves no cache entry', async () => {
    const failing = { repoDir, key: 'broken', install: 'echo "no such package: left-pad"; exit 3' };
    const failingCache = join(scratch.path, 'cache-failing');
    const error = await prepareEnvironment(failing, { cacheDir: failingCache }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toContain('exited with code 3');
    expect((error as UserError).details.join('\n')).toContain('no such package: left-pad');
    expect(await readdir(failingCache)).toEqual([]);
  });

  it('rejects a repository directory that does not exist with a user error', async () => {
    const missing = { repoDir: join(scratch.path, 'nope'), key: 'missing' };
    await expect(prepareEnvironment(missing, { cacheDir })).rejects.toThrow(/does not exist/);
  });
});

describe('createSandbox', () => {
  it('rejects limits that are not positive whole numbers', () => {
    expect(() => createSandbox('local', { limits: { memoryMb: -1 } })).toThrow(UserError);
    expect(DEFAULT_LIMITS.maxOutputBytes).toBe(8 * 1024 * 1024);
  });

  it('creates a 30-file workspace quickly (timing printed, not asserted)', async () => {
    for (const kind of kinds) {
      const sandbox = createSandbox(kind, { workDir });
      const durations: number[] = [];
      for (let i = 0; i < 25; i++) {
        const started = performance.now();
        const workspace = await sandbox.createWorkspace(environment);
        durations.push(performance.now() - started);
        await workspace.destroy();
      }
      durations.sort((a, b) => a - b);
      console.log(`createWorkspace(${kind}), 30 files: p50 ${durations[12]!.toFixed(1)} ms, max ${durations[24]!.toFixed(1)} ms`);
      expect(durations).toHaveLength(25);
    }
  });
});

describe.each(kinds)('%s workspace', (kind) => {
  let workspace: Workspace;
  beforeAll(async () => {
    workspace = await createSandbox(kind, { workDir, limits: { maxOutputBytes: 64 * 1024 } }).createWorkspace(environment);
  });
  afterAll(async () => {
    await workspace.destroy();
  });

  it('runs in the repository root with stdout and stderr merged in order', async () => {
    const result = await workspace.exec('pwd; echo one; echo two >&2; echo three; exit 4', { timeoutMs: 10_000 });
    expect(result.output).toBe(`${workspace.root}\none\ntwo\nthree\n`);
    expect(result).toMatchObject({ exitCode: 4, signal: null, timedOut: false, outputLimited: false });
  });

  it('passes stdin and the caller env, and nothing else of the parent env', async () => {
    process.env.BENCH_PARENT_ONLY = 'parent-value';
    try {
      const result = await workspace.exec('cat; echo "[$EXTRA][${BENCH_PARENT_ONLY:-unset}][$HOME][$LANG][$TZ][$TERM]"', {
        timeoutMs: 10_000,
        stdin: 'from stdin\n',
        env: { EXTRA: 'given' },
      });
      expect(result.output).toMatch(/^from stdin\n\[given\]\[unset\]\[[^\]]+\]\[C\.UTF-8\]\[UTC\]\[dumb\]\n$/);
    } finally {
      delete process.env.BENCH_PARENT_ONLY;
    }
  });

  it('offers bash, git, patch, python3 and the harness node', async () => {
    const result = await workspace.exec('git --version && patch --version | head -1 && /usr/bin/python3 -c "print(1+1)" && node -p "process.version"', {
      timeoutMs: 10_000,
    });
    expect(result.exitCode).toBe(0);
    expect(result.output).toContain(process.version);
  });

  it('sees the installed dependencies without copying them into the workspace', async () => {
    const result = await workspace.exec('node -p "require(\'dep\')"; git status --porcelain', { timeoutMs: 10_000 });
    expect(result.output).toBe('42\n');
    const onHost = await lstat(join(workspace.dir, 'node_modules'));
    if (kind === 'local') expect(await readlink(join(workspace.dir, 'node_modules'))).toBe(join(environment.baseDir, 'node_modules'));
    else expect(await readdir(join(workspace.dir, 'node_modules'))).toEqual([]);
    expect(onHost.isSymbolicLink() || onHost.isDirectory()).toBe(true);
  });

  it('shows no future: one commit, no reflog, tags or remotes, a minimal .git', async () => {
    const result = await workspace.exec(
      'git log --all --oneline | wc -l; git reflog | wc -l; git tag | wc -l; git remote | wc -l; ls -A .git | tr "\\n" " "; git log --all -p | grep -c THE-FUTURE-FIX',
      { timeoutMs: 10_000 },
    );
    expect(result.output).toBe('1\n0\n0\n0\nHEAD config index info objects refs 0\n');
  });

  it('diffs modified, new, deleted, binary and executable files against the base', async () => {
    await workspace.exec(
      'sed -i "s/a - b/a + b/" src/calc.py && echo "new" > added.txt && rm README.md && printf "\\000\\001\\002" > blob.bin ' +
        '&& chmod +x pkg0/module_4.py && mkdir -p src/__pycache__ && echo junk > src/__pycache__/calc.cpython-311.pyc',
      { timeoutMs: 10_000 },
    );
    const diff = await patchOf(workspace);
    expect(diff).toContain('diff --git a/src/calc.py b/src/calc.py');
    expect(diff).toContain('+    return a + b');
    expect(diff).toContain('new file mode 100644\nindex 0000000000000000000000000000000000000000..');
    expect(diff).toContain('diff --git a/README.md b/README.md\ndeleted file mode 100644');
    expect(diff).toContain('GIT binary patch');
    expect(diff).toContain('old mode 100644\nnew mode 100755');
    expect(diff).not.toContain('__pycache__');
    expect(diff).not.toContain('node_modules');

    // The patch recreates the same tree in a fresh workspace.
    const fresh = await createSandbox('local', { workDir }).createWorkspace(environment);
    try {
      await writeFile(join(fresh.dir, '..', 'patch.diff'), diff);
      const applied = await fresh.exec('git apply --verbose ../patch.diff', { timeoutMs: 10_000 });
      expect(applied.exitCode).toBe(0);
      expect(await patchOf(fresh)).toBe(diff);
    } finally {
      await fresh.destroy();
    }
  });

  it('diffs against the base even after commits, resets and a hostile .git/config in the workspace', async () => {
    const marker = join(workDir, `fsmonitor-ran-${kind}`);
    await workspace.exec(
      'git add -A && git commit -qm "hide" && git tag hidden && ' +
        `git config core.fsmonitor "touch ${marker}" && git config diff.external "sh -c false" && git config core.hooksPath /tmp`,
      { timeoutMs: 10_000 },
    );
    const diff = await patchOf(workspace);
    expect(diff).toContain('+    return a + b');
    expect(diff).toContain('b/added.txt');
    await expect(stat(marker)).rejects.toThrow();
  });

  it('kills what a command leaves running in the background once it returns', async () => {
    const marker = `bench-bg-${kind}-${process.pid}`;
    // A new session escapes the process group: only the bwrap pid namespace (or a cgroup) catches it.
    const escape = kind === 'bwrap' ? `(setsid bash -c "exec -a ${marker}x sleep 300" &) ;` : '';
    const result = await workspace.exec(`(exec -a ${marker} sleep 300) & ${escape} echo started`, {
      timeoutMs: 10_000,
    });
    expect(result.output).toBe('started\n');
    expect(result.durationMs).toBeLessThan(5_000);
    expect(await processesWith(marker)).toEqual([]);
  });

  it('kills the whole process tree at the timeout', async () => {
    const marker = `bench-timeout-${kind}-${process.pid}`;
    const result = await workspace.exec(`echo before; (exec -a ${marker} sleep 300) & exec -a ${marker} sleep 300`, { timeoutMs: 500 });
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL', output: 'before\n' });
    expect(result.durationMs).toBeLessThan(4_000);
    expect(await processesWith(marker)).toEqual([]);
  });

  it('keeps the head and tail of long output and kills a process that will not stop', async () => {
    const finite = await workspace.exec('echo FIRST; head -c 200000 /dev/zero | tr "\\0" x; echo; echo LAST', { timeoutMs: 10_000 });
    expect(finite.outputLimited).toBe(true);
    expect(finite.exitCode).toBe(0);
    expect(finite.output.startsWith('FIRST\nxxx')).toBe(true);
    expect(finite.output.endsWith('xxx\nLAST\n')).toBe(true);
    expect(finite.output).toMatch(/\[\.\.\. \d+ bytes of output omitted \.\.\.\]/);
    expect(finite.output.length).toBeLessThan(64 * 1024 + 100);

    const endless = await workspace.exec('yes', { timeoutMs: 20_000 });
    expect(endless).toMatchObject({ outputLimited: true, timedOut: false, signal: 'SIGKILL' });
  });

  it('stops working once destroyed, killing a command still running, and leaves nothing behind', async () => {
    const doomed = await createSandbox(kind, { workDir }).createWorkspace(environment);
    const running = doomed.exec('sleep 300', { timeoutMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await doomed.destroy();
    const result = await running;
    expect(result.signal).toBe('SIGKILL');
    await expect(stat(doomed.dir)).rejects.toThrow();
    await expect(doomed.exec('true', { timeoutMs: 1000 })).rejects.toThrow(/destroyed/);
    await doomed.destroy();
    // The base is untouched by workspaces.
    expect(await readFile(join(environment.baseDir, 'src/calc.py'), 'utf8')).toContain('a - b');
  });
});

describe('local workspace after the work tree is deleted', () => {
  it('recreates the root and the dependency link before the next command', async () => {
    const workspace = await createSandbox('local', { workDir }).createWorkspace(environment);
    try {
      await workspace.exec(`rm -rf ${workspace.dir}`, { timeoutMs: 10_000 });
      const result = await workspace.exec('ls -A', { timeoutMs: 10_000 });
      expect(result.output).toBe('node_modules\n');
      expect(await readFile(join(environment.baseDir, 'node_modules/dep/index.js'), 'utf8')).toContain('41 + 1');
    } finally {
      await workspace.destroy();
    }
  });
});

describe('workspaces of a base with special files', () => {
  it('copies symlinks as links and keeps executable bits', async () => {
    const repo = join(scratch.path, 'special');
    await writeFiles(repo, { 'bin/run.sh': '#!/bin/sh\necho ran\n', 'data/real.txt': 'real\n' });
    await chmod(join(repo, 'bin/run.sh'), 0o755);
    await mkdir(join(repo, 'links'));
    await execa('ln', ['-s', '../data/real.txt', join(repo, 'links/rel')]);
    const prepared = await prepareEnvironment({ repoDir: repo, key: 'special' }, { cacheDir });
    const workspace = await createSandbox('local', { workDir }).createWorkspace(prepared);
    try {
      expect(await readlink(join(workspace.dir, 'links/rel'))).toBe('../data/real.txt');
      expect((await workspace.exec('./bin/run.sh && git status --porcelain', { timeoutMs: 10_000 })).output).toBe('ran\n');
    } finally {
      await workspace.destroy();
    }
  });
});
