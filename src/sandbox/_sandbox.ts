import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.ts';
import { bwrapAvailable } from './_bwrap.ts';
import { sharedDirsOf } from './_environment.ts';
import { resolveLimits } from './_types.ts';
import type { EnvironmentTarget, Limits, PreparedEnvironment, Sandbox, Workspace } from './_types.ts';
import { SandboxWorkspace } from './_workspace.ts';

export const BWRAP_MISSING =
  'The bwrap sandbox cannot start here: `bwrap` (bubblewrap) is not on PATH or cannot create ' +
  'namespaces on this machine. Install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`) and allow ' +
  'unprivileged user namespaces, or choose another sandbox (`--sandbox podman`, `--sandbox docker`, or `--sandbox local`, which gives no isolation).';

/** Workspaces as host folders: copies of the prepared base, commands run under bwrap or directly (local). */
export function createHostSandbox(kind: 'bwrap' | 'local', options: { limits?: Partial<Limits>; workDir?: string } = {}): Sandbox {
  const limits = resolveLimits(options.limits);
  const workDir = resolve(options.workDir ?? join(tmpdir(), 'bench-workspaces'));
  const sharedCache = new Map<string, Promise<string[]>>();

  return {
    kind,
    isolates: kind === 'bwrap',
    prepare: (target: EnvironmentTarget) => target.host(),
    async createWorkspace(environment: PreparedEnvironment): Promise<Workspace> {
      if (kind === 'bwrap' && !(await bwrapAvailable())) throw new UserError(BWRAP_MISSING);
      const found = await stat(environment.baseDir).catch(() => undefined);
      if (!found?.isDirectory()) {
        throw new UserError(
          `The prepared environment "${environment.key}" points at ${environment.baseDir}, which does not exist. ` +
            'Its cache entry was removed; prepare the environment again.',
        );
      }
      const cacheKey = `${environment.baseDir}\0${environment.baseCommit}`;
      let shared = sharedCache.get(cacheKey);
      if (!shared) {
        shared = sharedDirsOf(environment);
        sharedCache.set(cacheKey, shared);
      }
      const sharedDirs = await shared;
      await mkdir(workDir, { recursive: true });
      const home = await mkdtemp(join(workDir, 'ws-'));
      try {
        return await SandboxWorkspace.create({ kind, home, environment, sharedDirs, limits });
      } catch (error) {
        await rm(home, { recursive: true, force: true });
        throw error;
      }
    },
  };
}
