import { lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Files of this process that nothing else writes: an empty file and an empty directory, to stand
 * in wherever a path must name "nothing" (a git config, a hooks directory, a covered file in the
 * sandbox), so no shared path such as /dev/null is ever trusted for it; and the compiled seccomp
 * program. Removed when the process exits.
 */
let dir: string | undefined;
let exitHookInstalled = false;

/** This process's private directory (mode 0700), made again if something removed or changed it. */
export function privateDir(): string {
  if (dir && intact(dir)) return dir;
  if (!dir) removeStale();
  // The pid in the name lets a later process remove what a killed one left.
  dir = mkdtempSync(join(tmpdir(), `bench-private-${process.pid}-`));
  writeFileSync(join(dir, 'empty'), '', { mode: 0o400 });
  mkdirSync(join(dir, 'empty.d'), { mode: 0o500 });
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });
  }
  return dir;
}

function intact(path: string): boolean {
  try {
    const file = lstatSync(join(path, 'empty'));
    const folder = lstatSync(join(path, 'empty.d'));
    return file.isFile() && file.size === 0 && folder.isDirectory() && readdirSync(join(path, 'empty.d')).length === 0;
  } catch {
    return false;
  }
}

/** An empty regular file of our own. */
export function emptyFile(): string {
  return join(privateDir(), 'empty');
}

/** An empty directory of our own. */
export function emptyDir(): string {
  return join(privateDir(), 'empty.d');
}

/** Private directories of processes that died without their exit hook (killed by a signal). */
function removeStale(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const owner = /^bench-private-(\d+)-/.exec(name)?.[1];
    if (owner === undefined || Number(owner) === process.pid) continue;
    try {
      process.kill(Number(owner), 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}
