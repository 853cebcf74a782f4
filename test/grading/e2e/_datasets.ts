import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { PROJECT_ROOT } from '../../helpers/cli.ts';

/** Our own small repositories, each in the conventions of one test runner. */
export const FIXTURE_REPOS_DIR = join(PROJECT_ROOT, 'test', 'fixtures', 'repos');
export const FIXTURES = ['mocha-nested', 'jest-app', 'pytest-params', 'vitest-ts'] as const;

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'fixture', GIT_AUTHOR_EMAIL: 'fixture@example.invalid', GIT_COMMITTER_NAME: 'fixture', GIT_COMMITTER_EMAIL: 'fixture@example.invalid',
  GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z', GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null',
};

const git = (cwd: string, ...args: string[]) => execa('git', args, { cwd, env: GIT_ENV });

export type Row = Record<string, unknown> & { instance_id: string; repo: string };

/**
 * A fixture as users get a real repository: a full clone whose history goes past the base
 * (the fix commit, a tag, a remote), left checked out at the fix. Returns the dataset rows with
 * base_commit, patch and test_patch filled in.
 */
export async function cloneFixture(name: (typeof FIXTURES)[number], reposDir: string): Promise<Row[]> {
  const folder = join(FIXTURE_REPOS_DIR, name);
  const rows = JSON.parse(await readFile(join(folder, 'rows.json'), 'utf8')) as Row[];
  const clone = join(reposDir, rows[0]!.repo.replace('/', '__'));
  await cp(join(folder, 'base'), clone, { recursive: true });
  await git(clone, 'init', '-q', '-b', 'main');
  await git(clone, 'add', '-A');
  await git(clone, 'commit', '-qm', 'base');
  const base = (await git(clone, 'rev-parse', 'HEAD')).stdout.trim();
  const patch = await readFile(join(folder, 'gold.patch'), 'utf8');
  const testPatch = await readFile(join(folder, 'test.patch'), 'utf8');
  await execa('git', ['apply', join(folder, 'gold.patch'), join(folder, 'test.patch')], { cwd: clone, env: GIT_ENV });
  await git(clone, 'commit', '-qam', 'THE-FUTURE-FIX');
  await git(clone, 'tag', 'v2.0.0');
  await git(clone, 'remote', 'add', 'origin', 'https://example.invalid/upstream.git');
  return rows.map((row) => ({ ...row, base_commit: base, patch, test_patch: testPatch }));
}

export async function writeDataset(path: string, rows: Row[]): Promise<string> {
  await writeFile(path, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  return path;
}
