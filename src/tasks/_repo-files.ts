import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A repository's files at one state, read without checking it out. */
export type RepoFiles = {
  /** Where the files come from, for messages: `clone@commit` or a folder. */
  where: string;
  /** Every file path, relative, `/`-separated. */
  paths: readonly string[];
  /** A file's text, or undefined when the path is no file there. */
  read(path: string): string | undefined;
};

const SKIPPED_DIRS = new Set(['.git', 'node_modules', '__pycache__']);

/** The tree of `commit` in a clone, listed only when asked. Undefined when the clone lacks the commit. */
export function filesAtCommit(cloneDir: string, commit: string): RepoFiles | undefined {
  const git = (args: string[]) => execFileSync('git', ['-C', cloneDir, ...args], { encoding: 'utf8', maxBuffer: 2 ** 28, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    git(['cat-file', '-e', `${commit}^{tree}`]);
  } catch {
    return undefined;
  }
  let paths: string[] | undefined;
  return {
    where: `${cloneDir}@${commit.slice(0, 12)}`,
    get paths() {
      paths ??= git(['ls-tree', '-r', '-z', '--name-only', `${commit}^{tree}`]).split('\0').filter(Boolean);
      return paths;
    },
    read: (path) => {
      try {
        return git(['cat-file', 'blob', `${commit}:${path}`]);
      } catch {
        return undefined;
      }
    },
  };
}

/** The files of a plain folder (a suite's repository), dependency and VCS folders left out. */
export function filesInDir(dir: string): RepoFiles {
  const paths: string[] = [];
  const walk = (relative: string) => {
    for (const entry of readdirSync(join(dir, relative), { withFileTypes: true })) {
      if (SKIPPED_DIRS.has(entry.name)) continue;
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) paths.push(path);
    }
  };
  walk('');
  const known = new Set(paths);
  return {
    where: dir,
    paths: paths.sort(),
    read: (path) => (known.has(path) ? readFileSync(join(dir, path), 'utf8') : undefined),
  };
}
