import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../errors.ts';
import { bwrapAvailable } from './_bwrap.ts';
import { removeStaleDisks, treeUsage, unmountWorkspaceDisk } from './_disk.ts';
import type { TreeUsage } from './_disk.ts';
import { sharedDirsOf } from './_environment.ts';
import { controlTemplate } from './_git.ts';
import { resolveLimits } from './_types.ts';
import type { EnvironmentTarget, Limits, PreparedEnvironment, Sandbox, Workspace } from './_types.ts';
import { SandboxWorkspace } from './_workspace.ts';

export const BWRAP_MISSING =
  'The bwrap sandbox cannot start here: `bwrap` (bubblewrap) is not on PATH or cannot create ' +
  'namespaces on this machine. Install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`) and allow ' +
  'unprivileged user namespaces, or choose another sandbox (`--sandbox podman`, `--sandbox docker`, or `--sandbox local`, which gives no isolation).';

/** Once per process: the filesystems dead harnesses left mounted. */
let staleRemoved: Promise<void> | undefined;

/** Workspaces as host folders: copies of the prepared base, commands run under bwrap or directly (local). */
export function createHostSandbox(
  kind: 'bwrap' | 'local',
  options: { limits?: Partial<Limits>; workDir?: string; hiddenPaths?: readonly string[] } = {},
): Sandbox {
  const limits = resolveLimits(options.limits);
  const workDir = resolve(options.workDir ?? join(tmpdir(), 'bench-workspaces'));
  const baseCache = new Map<string, Promise<{ sharedDirs: string[]; baseUsage: TreeUsage; copied?: string[] }>>();
  const hiddenPaths = harnessPaths(options.hiddenPaths ?? []);

  return {
    kind,
    isolates: kind === 'bwrap',
    prepare: (target: EnvironmentTarget) => target.host(),
    async createWorkspace(environment: PreparedEnvironment, options: { early?: boolean } = {}): Promise<Workspace> {
      if (kind === 'bwrap' && !(await bwrapAvailable())) throw new UserError(BWRAP_MISSING);
      // Synchronous metadata calls: each costs less than the thread pool's round trip for it.
      const found = statSync(environment.baseDir, { throwIfNoEntry: false });
      if (!found?.isDirectory()) {
        throw new UserError(
          `The prepared environment "${environment.key}" points at ${environment.baseDir}, which does not exist. ` +
            'Its cache entry was removed; prepare the environment again.',
        );
      }
      const cacheKey = `${environment.baseDir}\0${environment.baseCommit}`;
      let base = baseCache.get(cacheKey);
      if (!base) {
        base = sharedDirsOf(environment).then(async (sharedDirs) => {
          const baseUsage = await treeUsage(environment.baseDir, new Set(sharedDirs));
          // A base of files, directories and symlinks alone is copied by one process; any other kind is left out entry by entry.
          const copied = baseUsage.special ? undefined : (await readdir(environment.baseDir)).filter((name) => !sharedDirs.includes(name));
          return { sharedDirs, baseUsage, ...(copied ? { copied } : {}) };
        });
        base.catch(() => baseCache.delete(cacheKey));
        baseCache.set(cacheKey, base);
      }
      const { sharedDirs, baseUsage, copied } = await base;
      mkdirSync(workDir, { recursive: true });
      staleRemoved ??= removeStaleDisks();
      await staleRemoved;
      // The pid in the name lets a later harness find workspaces whose owner died.
      const home = mkdtempSync(join(workDir, `ws-${process.pid}-`));
      const layout = { kind, home, environment, sharedDirs, limits, hiddenPaths, baseUsage, ...(copied ? { copied } : {}) };
      // Made in the background: its destroy() cleans up whatever a failure left. An agent's
      // workspace will be diffed: its git directory comes with the copy.
      if (options.early) return SandboxWorkspace.begin({ ...layout, controlTemplate: await controlTemplate(environment) });
      try {
        return await SandboxWorkspace.create(layout);
      } catch (error) {
        await unmountWorkspaceDisk(home);
        await rm(home, { recursive: true, force: true });
        throw error;
      }
    },
  };
}

/** The harness's checkout, results and caches (wherever they live), plus the caller's paths. */
function harnessPaths(extra: readonly string[]): string[] {
  const env = process.env;
  const paths = [
    resolve(import.meta.dirname, '../..'),
    resolve(env.BENCH_RESULTS_DIR ?? 'results'),
    resolve(env.BENCH_CACHE_DIR ?? join('results', 'cache')),
    ...(env.BENCH_DB ? [dirname(resolve(env.BENCH_DB))] : []),
    ...extra.map((path) => resolve(path)),
  ];
  return [...new Set(paths)];
}
