import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import type { EnvironmentSpec } from '../sandbox/index.ts';
import { sha256 } from './_hash.ts';
import type { Instance } from './_schema.ts';

/** The repository's base state as plain files: the suite folder itself, or base_commit checked out of a clone at any commit. */
export async function baseFiles(instance: Instance, cacheDir: string): Promise<string> {
  if (instance.source.kind === 'suite') return instance.source.repoDir;
  const { cloneDir } = instance.source;
  const target = join(cacheDir, 'repos', `${instance.repo.replace('/', '__')}@${instance.base_commit}`);
  if (existsSync(target)) return target;
  const partial = `${target}.partial-${process.pid}-${Math.random().toString(36).slice(2)}`;
  mkdirSync(partial, { recursive: true });
  // The base commit's tree is checked out into a fresh folder through an index of our own: the
  // clone's HEAD, index and work tree stay as they are, and nothing of its history, tags or
  // remotes comes along (unlike `git archive`, export-ignore and export-subst change nothing).
  const index = `${partial}.index`;
  const { execa } = await import('execa');
  const git = (args: string[]) => execa('git', ['-C', cloneDir, `--work-tree=${partial}`, ...args], { reject: false, env: { GIT_INDEX_FILE: index } });
  const read = await git(['read-tree', `${instance.base_commit}^{tree}`]);
  const checkout = read.exitCode === 0 ? await git(['checkout-index', '--all', '--force']) : read;
  rmSync(index, { force: true });
  if (checkout.exitCode !== 0) {
    rmSync(partial, { recursive: true, force: true });
    throw new UserError(`Instance ${instance.instance_id}: commit ${instance.base_commit} is not in the clone ${cloneDir}. Fetch it there (git fetch) and try again.`);
  }
  try {
    renameSync(partial, target);
  } catch {
    rmSync(partial, { recursive: true, force: true });
  }
  return target;
}

/** One environment per repository base + install command: prepared once, shared by every workspace. */
export async function environmentSpec(instance: Instance, cacheDir: string): Promise<EnvironmentSpec> {
  const repoDir = await baseFiles(instance, cacheDir);
  const base = instance.source.kind === 'suite' ? instance.source.treeHash.slice(0, 12) : instance.base_commit!.slice(0, 12);
  const key = `${instance.repo.replace('/', '__')}-${base}-${sha256(instance.install ?? '').slice(0, 8)}`;
  return { repoDir, key, install: instance.install };
}
