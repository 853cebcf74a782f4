import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadExeca } from './_process.ts';

/**
 * Copy-on-write dependencies. A prepared environment's dependency folders (node_modules and the
 * like) stay shared by every workspace, but each workspace sees them through an overlayfs mount:
 * the shared folder is the read-only lower layer, and the upper layer lives in the workspace's
 * own directory. Tools that write into node_modules (vite's `.vite-temp`, jest and babel caches)
 * succeed, and what they wrote goes with the workspace. The mounts are made in a private mount
 * namespace (`unshare -m` as root, `unshare -Urm` otherwise) that bwrap then starts in; bwrap's
 * recursive bind of the work tree carries them into the sandbox. Where overlayfs cannot be
 * mounted, the folders stay read-only binds as before.
 */

export type OverlayLayout = {
  /** The workspace's own directory: the upper and work layers go under `overlay/` there. */
  home: string;
  /** The work tree whose dependency folders are the mount points. */
  workTree: string;
  /** The prepared base holding the shared folders. */
  baseDir: string;
  sharedDirs: readonly string[];
};

/** Characters overlayfs's option string cannot carry in a path. */
const UNSAFE_PATH = /[,:\\\s]/;

let availability: Promise<boolean> | undefined;

/** overlayfs can be mounted in a private mount namespace here (probed once). */
export function overlayAvailable(): Promise<boolean> {
  availability ??= probe();
  return availability;
}

/** argv that mounts the overlays in a fresh mount namespace and then execs `argv` there. */
export async function overlayArgv(layout: OverlayLayout, argv: string[]): Promise<string[] | undefined> {
  const mounts: string[] = [];
  for (const name of layout.sharedDirs) {
    const lower = join(layout.baseDir, name);
    const upper = join(layout.home, 'overlay', name, 'upper');
    const work = join(layout.home, 'overlay', name, 'work');
    const target = join(layout.workTree, name);
    if ([lower, upper, work].some((path) => UNSAFE_PATH.test(path))) return undefined;
    await mkdir(upper, { recursive: true });
    await mkdir(work, { recursive: true });
    mounts.push(`lowerdir=${lower},upperdir=${upper},workdir=${work}${asRoot() ? '' : ',userxattr'}`, target);
  }
  return [...namespaceArgv(), ...mountScriptArgv(mounts.length / 2), ...mounts, '--', ...argv];
}

function asRoot(): boolean {
  return process.getuid?.() === 0;
}

/** A private mount namespace; without root, inside a user namespace of our own. */
function namespaceArgv(): string[] {
  return asRoot() ? ['unshare', '--mount', '--propagation', 'private'] : ['unshare', '--user', '--map-root-user', '--mount', '--propagation', 'private'];
}

/** bash mounting `count` (options, target) pairs from its arguments, then exec-ing what follows `--`. */
function mountScriptArgv(count: number): string[] {
  const script = [
    `for _ in $(seq ${count}); do`,
    '  mount -t overlay overlay -o "$1" "$2" || { echo "sandbox: cannot mount the dependency overlay at $2"; exit 125; }',
    '  shift 2',
    'done',
    'shift',
    'exec "$@"',
  ].join('\n');
  return ['/bin/bash', '--norc', '--noprofile', '-c', script, 'overlay'];
}

async function probe(): Promise<boolean> {
  if (process.platform !== 'linux') return false;
  const scratch = await mkdtemp(join(tmpdir(), 'bench-overlay-probe-'));
  try {
    const lower = join(scratch, 'base', 'deps');
    const tree = join(scratch, 'tree');
    await mkdir(lower, { recursive: true });
    await mkdir(join(tree, 'deps'), { recursive: true });
    await writeFile(join(lower, 'shared'), 'x');
    const argv = await overlayArgv({ home: scratch, workTree: tree, baseDir: join(scratch, 'base'), sharedDirs: ['deps'] },
      ['/bin/sh', '-c', `test -f ${tree}/deps/shared && touch ${tree}/deps/written`]);
    if (!argv) return false;
    const result = await (await loadExeca())(argv[0]!, argv.slice(1), { reject: false, timeout: 15_000 });
    // The write landed in the upper layer, never in the shared folder.
    const leaked = await (await loadExeca())('test', ['-e', join(lower, 'written')], { reject: false });
    return result.exitCode === 0 && leaked.exitCode !== 0;
  } catch {
    return false;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
