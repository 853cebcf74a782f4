import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { chmod, lstat, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sourceDiff } from '../../src/agents/_submission.ts';
import { bwrapAvailable, createSandbox, prepareEnvironment } from '../../src/sandbox/index.ts';
import { copyTreeSync } from '../../src/sandbox/_tree.ts';
import type { PreparedEnvironment, SandboxKind } from '../../src/sandbox/index.ts';
import { repoWithFuture, scratchDir, smallRepoFiles } from './_fixtures.ts';

const kinds: SandboxKind[] = (await bwrapAvailable()) ? ['local', 'bwrap'] : ['local'];

let scratch: Awaited<ReturnType<typeof scratchDir>>;
let environment: PreparedEnvironment;

beforeAll(async () => {
  scratch = await scratchDir('workspace-copy');
  const repoDir = join(scratch.path, 'repo');
  await repoWithFuture(repoDir, { ...smallRepoFiles(12), 'bin/run.sh': '#!/bin/sh\necho run\n' });
  await chmod(join(repoDir, 'bin/run.sh'), 0o755);
  await symlink('src/calc.py', join(repoDir, 'calc-link.py'));
  environment = await prepareEnvironment({ repoDir, key: 'copy@base' }, { cacheDir: join(scratch.path, 'cache') });
});

afterAll(async () => {
  await scratch.cleanup();
});

describe.each(kinds)('a %s workspace', (kind) => {
  it('is the base copied with its modes and symlinks, also when it is handed out before the copy is made', async () => {
    const sandbox = createSandbox(kind, { workDir: join(scratch.path, `work-${kind}`) });
    for (const early of [false, true]) {
      const workspace = await sandbox.createWorkspace(environment, { early });
      const { dir } = await workspace.checkout();
      expect(((await lstat(join(dir, 'bin/run.sh'))).mode & 0o777).toString(8)).toBe('755');
      expect(await readlink(join(dir, 'calc-link.py'))).toBe('src/calc.py');
      expect((await readdir(join(dir, 'pkg1'))).sort()).toEqual((await readdir(join(environment.baseDir, 'pkg1'))).sort());
      // An agent's workspace (early) gets its git directory with the copy; a grading's never needs one.
      expect(existsSync(join(dirname(dir), 'git', 'index'))).toBe(early);
      const diff = await workspace.diff();
      expect(diff).toEqual({ ok: true, patch: '' });
      await workspace.destroy();
      expect(existsSync(dir)).toBe(false);
    }
  });

  it('keeps its source diff apart from the agent\'s own files with the base\'s file list, whatever was done to its .git', async () => {
    const sandbox = createSandbox(kind, { workDir: join(scratch.path, `work-${kind}`) });
    const workspace = await sandbox.createWorkspace(environment, { early: true });
    try {
      const run = await workspace.exec('rm -rf .git && echo "print(1)" > reproduce.py && echo "X = 1" > pkg1/extra.py && echo "# fixed" >> src/calc.py', { timeoutMs: 30_000 });
      expect(run.exitCode, run.output).toBe(0);
      const diff = await sourceDiff(workspace);
      if (!diff.ok) throw new Error(diff.message);
      expect(diff.excluded).toEqual(['reproduce.py']);
      expect(diff.patch).toContain('diff --git a/pkg1/extra.py b/pkg1/extra.py');
      expect(diff.patch).toContain('+# fixed');
    } finally {
      await workspace.destroy();
    }
  });

  it('gives a grading a git index that already holds the copy\'s stat data, and git still sees a same-size change the patch writes', async () => {
    const sandbox = createSandbox(kind, { workDir: join(scratch.path, `work-${kind}`) });
    const patch = ['--- a/src/calc.py', '+++ b/src/calc.py', '@@ -1,2 +1,2 @@', ' def add(a, b):', '-    return a - b', '+    return a + b', ''].join('\n');
    const workspace = await sandbox.createWorkspace(environment);
    try {
      if (!workspace.gradingGit) throw new Error(`a ${kind} workspace has no grading git directory`);
      const gitDir = await workspace.gradingGit({ 'model.patch': patch });
      const git = `export GIT_DIR=${gitDir} GIT_WORK_TREE="$PWD" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null;`;
      // Every entry's size is the file's: git compares sizes and times rather than reading every file to hash it.
      const listed = await workspace.exec(`${git} git ls-files --debug -- src/calc.py README.md`, { timeoutMs: 30_000 });
      expect(listed.exitCode, listed.output).toBe(0);
      expect([...listed.output.matchAll(/size: (\d+)/g)].map((m) => Number(m[1]))).toEqual(['README.md', 'src/calc.py'].map((path) => statSync(join(environment.baseDir, path)).size));
      const untouched = await workspace.exec(`${git} git status --porcelain --untracked-files=all`, { timeoutMs: 30_000 });
      expect(untouched.output).toBe('');
      // The same size as the base's file: only the time it was written tells it apart.
      const changed = await workspace.exec(`${git} git apply "$GIT_DIR/grading/model.patch" && git status --porcelain --untracked-files=all`, { timeoutMs: 30_000 });
      expect(changed.output).toBe(' M src/calc.py\n');
    } finally {
      await workspace.destroy();
    }
  });

  it('writes a grading git directory\'s files into folders of their own inside `grading`, never above it', async () => {
    const sandbox = createSandbox(kind, { workDir: join(scratch.path, `work-${kind}`) });
    const workspace = await sandbox.createWorkspace(environment);
    try {
      if (!workspace.gradingGit) throw new Error(`a ${kind} workspace has no grading git directory`);
      const gitDir = await workspace.gradingGit({ 'test.patch': 'p', 'channel/plugin.py': 'X = 1\n' });
      const read = await workspace.exec(`cat "${gitDir}/grading/channel/plugin.py"`, { timeoutMs: 30_000 });
      expect(read.output).toBe('X = 1\n');
      for (const name of ['../escaped', 'channel/../../escaped', '/abs', 'a//b']) {
        await expect(workspace.gradingGit({ [name]: 'x' })).rejects.toThrow(/bad file name/);
      }
    } finally {
      await workspace.destroy();
    }
  });

  // The workspace's own filesystem (mounted as root) is what a copy can run out of.
  it.skipIf(process.getuid?.() !== 0)('handed out early, fails at first use when its base does not fit, and destroy leaves nothing behind', async () => {
    const workDir = join(scratch.path, `broken-${kind}`);
    const sandbox = createSandbox(kind, { workDir, limits: { diskMb: 1 } });
    // A base that grows past the room its workspaces were sized for once its listing was read.
    const copyDir = join(scratch.path, `growing-${kind}`);
    execFileSync('cp', ['-a', environment.baseDir, copyDir]);
    const growing = { ...environment, baseDir: copyDir };
    await (await sandbox.createWorkspace(growing)).destroy();
    await writeFile(join(copyDir, 'pkg1', 'big.bin'), Buffer.alloc(4 * 1024 * 1024, 1));
    const workspace = await sandbox.createWorkspace(growing, { early: true });
    await expect(workspace.exec('true', { timeoutMs: 10_000 })).rejects.toThrow(/No space left on device/);
    await workspace.destroy();
    expect(await readdir(workDir)).toEqual([]);
  });
});

describe('the in-process copy of a small tree', () => {
  /** Every entry below `dir`: its kind, mode, size (of a file), target (of a link) and path, and its modification time in seconds. */
  const listing = (dir: string) => execFileSync('find', ['.', '-mindepth', '1', '-printf', '%y %m %s %l %p\t%T@\n'], { cwd: dir, encoding: 'utf8' })
    .split('\n').filter(Boolean).map((line) => line.split('\t'))
    // Whole seconds and the fraction apart: .999999999 read as one number would round up into the next second.
    .map(([entry, time]) => [entry!.replace(/^l (\d+) \d+/, 'l $1'), Number(time!.split('.')[0]), Number(`0.${time!.split('.')[1] ?? 0}`)] as const)
    .sort(([a], [b]) => a.localeCompare(b));
  /** The same entries, each with the same whole-second time (what git compares) and within two microseconds of it. */
  const expectSameListing = (ours: string, theirs: string) => {
    const [a, b] = [listing(ours), listing(theirs)];
    expect(a.map(([entry]) => entry)).toEqual(b.map(([entry]) => entry));
    a.forEach(([entry, seconds, fraction], k) => {
      expect(seconds, entry).toBe(b[k]![1]);
      expect(Math.abs(fraction - b[k]![2]), entry).toBeLessThan(2e-6);
    });
    return a;
  };

  it('copies what cp -R -P --preserve=mode,timestamps copies: modes, times, links, read-only folders, with or without the top', async () => {
    const source = join(scratch.path, 'small-tree');
    execFileSync('bash', ['-c', [
      'set -e',
      `mkdir -p "${source}/a/b/empty" "${source}/locked/inner" "${source}/skipped"`,
      `printf 'x' > "${source}/a/b/file.txt"; printf 'run' > "${source}/a/run.sh"; chmod 755 "${source}/a/run.sh"`,
      `printf 'ro' > "${source}/a/readonly"; chmod 444 "${source}/a/readonly"; printf 'p' > "${source}/a/private"; chmod 600 "${source}/a/private"`,
      `printf 'in' > "${source}/locked/inner/f"; touch -d '2001-02-03 04:05:06.999999999' "${source}/locked/inner/f" "${source}/locked/inner"`,
      `ln -s a/b/file.txt "${source}/link"; ln -s ../missing "${source}/a/dangling"; touch -h -d '2002-01-01 00:00:00' "${source}/link"`,
      `printf 's' > "${source}/skipped/f"; touch -d '2003-03-03 03:03:03.5' "${source}/a/b" "${source}/a"`,
      `chmod 555 "${source}/locked/inner" "${source}/locked"`,
    ].join('\n')]);
    try {
      for (const whole of [true, false]) {
        const ours = join(scratch.path, `ours-${whole}`);
        const theirs = join(scratch.path, `theirs-${whole}`);
        const names = (await readdir(source)).filter((name) => name !== 'skipped');
        copyTreeSync(source, ours, whole ? undefined : names);
        execFileSync('cp', whole ? ['-R', '-P', '--preserve=mode,timestamps', '-T', '--', source, theirs] : ['-R', '-P', '--preserve=mode,timestamps', '-t', (execFileSync('mkdir', [theirs]), theirs), '--', ...names.map((name) => join(source, name))]);
        const copied = expectSameListing(ours, theirs);
        expect(copied.some(([entry]) => entry.endsWith('./skipped'))).toBe(whole);
        expect(copied.length).toBe(whole ? 14 : 12);
        if (whole) expect((statSync(ours).mode & 0o7777).toString(8)).toBe((statSync(source).mode & 0o7777).toString(8));
        execFileSync('chmod', ['-R', 'u+w', ours, theirs]);
      }
    } finally {
      execFileSync('chmod', ['-R', 'u+w', source]);
    }
  });

  it('says which copy failed and what the system said', async () => {
    const target = join(scratch.path, 'copy-over-a-file');
    await writeFile(target, 'in the way');
    expect(() => copyTreeSync(join(scratch.path, 'repo'), target)).toThrow(/^copying .*repo to .*copy-over-a-file failed: File already exists \(EEXIST\): mkdir '.*copy-over-a-file'$/);
  });
});
