import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import type { Workspace } from '../../src/sandbox/index.ts';

/** A scratch directory removed by the returned cleanup. */
export async function scratchDir(prefix: string): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `bench-${prefix}-`));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** The files of a small repository: `count` files spread over a few packages. */
export function smallRepoFiles(count = 30): Record<string, string> {
  const files: Record<string, string> = {
    'README.md': '# demo\n',
    '.gitignore': 'build/\n',
    'src/calc.py': 'def add(a, b):\n    return a - b\n',
    'tests/test_calc.py': 'from src.calc import add\n\ndef test_add():\n    assert add(2, 3) == 5\n',
  };
  for (let i = Object.keys(files).length; i < count; i++) {
    files[`pkg${i % 4}/module_${i}.py`] = `VALUE_${i} = ${i}\n`.repeat(20);
  }
  return files;
}

export async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), content);
  }
}

/**
 * A git checkout whose history holds a "future" commit, a tag and a remote, reset back to the
 * first commit: what a task repository looks like before we copy it.
 */
export async function repoWithFuture(root: string, files: Record<string, string>): Promise<void> {
  await writeFiles(root, files);
  const env = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
  const git = (...args: string[]) => execa('git', args, { cwd: root, env });
  await git('init', '-q', '-b', 'main');
  await git('add', '-A');
  await git('commit', '-qm', 'base');
  await writeFile(join(root, 'src/calc.py'), 'def add(a, b):\n    return a + b  # THE-FUTURE-FIX\n');
  await git('commit', '-qam', 'future fix');
  await git('tag', 'v-future');
  await git('remote', 'add', 'origin', 'https://example.invalid/repo.git');
  await git('reset', '-q', '--hard', 'HEAD~1');
}

/** Command lines of all processes on the machine containing `marker`. */
export async function processesWith(marker: string): Promise<string[]> {
  const { stdout } = await execa('ps', ['-eo', 'pid=,args=']);
  return stdout.split('\n').filter((line) => line.includes(marker) && !line.includes('ps -eo'));
}

/** The workspace's patch; fails the test when the diff came back oversized. */
export async function patchOf(workspace: Workspace): Promise<string> {
  const diff = await workspace.diff();
  if (!diff.ok) throw new Error(`expected a patch, got: ${diff.message}`);
  return diff.patch;
}
