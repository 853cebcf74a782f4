import { fileURLToPath } from 'node:url';
import { UserError } from '../../errors.ts';
import { engine, engineError, locateEngine, missingEngineMessage, type Engine } from './_engine.ts';
import { imagePresent, TOOLCHAIN_IMAGE } from './_images.ts';
import { LABEL, OWNER_LABEL, RUN_LABEL, ownerAlive } from './_labels.ts';

export const TOOLCHAIN_DOCKERFILE = fileURLToPath(new URL('../../../docker/toolchain.Dockerfile', import.meta.url));

function engineFor(name: string): Engine {
  const e = locateEngine(name);
  if (!e) throw new UserError(missingEngineMessage(name));
  return e;
}

export type Leftovers = { removed: string[]; kept: string[] };

/**
 * Removes containers bench left behind (a harness killed with SIGKILL cannot remove its own): those
 * whose owning process is gone, or all of them with `all`; `run` narrows to one run's containers.
 */
export async function removeLeftovers(name: string, options: { run?: string; all?: boolean } = {}): Promise<Leftovers> {
  const e = engineFor(name);
  const filter = options.run ? `label=${RUN_LABEL}=${options.run}` : `label=${LABEL}`;
  const listed = await engine(e, ['ps', '-a', '-q', '--no-trunc', '--filter', filter]);
  if (listed.exitCode !== 0) throw engineError(`Listing ${name}'s containers failed`, listed, `Check that \`${name} ps\` works.`);
  const ids = listed.stdout.split('\n').filter(Boolean);
  const result: Leftovers = { removed: [], kept: [] };
  if (ids.length === 0) return result;
  const inspected = await engine(e, ['inspect', '--format', `{{.Id}} {{.Name}} {{index .Config.Labels "${OWNER_LABEL}"}}`, ...ids]);
  const garbage: string[] = [];
  for (const line of inspected.stdout.split('\n').filter(Boolean)) {
    const [id, containerName, owner] = line.split(' ');
    const shown = (containerName ?? id!).replace(/^\//, '');
    if (options.all || options.run || !ownerAlive(owner)) {
      garbage.push(id!);
      result.removed.push(shown);
    } else result.kept.push(shown);
  }
  if (garbage.length) {
    const removed = await engine(e, ['rm', '-f', ...garbage], { timeoutMs: 300_000 });
    if (removed.exitCode !== 0) throw engineError(`Removing ${garbage.length} leftover containers failed`, removed, `Remove them by hand (\`${name} rm -f\`).`);
  }
  return result;
}

export type ImageStatus = { image: string; present: boolean; instances: string[] };

/** Which of the images present locally; nothing is pulled. */
export async function checkImages(name: string, needed: Map<string, string[]>): Promise<ImageStatus[]> {
  const e = engineFor(name);
  const statuses: ImageStatus[] = [];
  for (const [image, instances] of [...needed].sort(([a], [b]) => (a < b ? -1 : 1))) {
    statuses.push({ image, present: await imagePresent(e, image), instances });
  }
  return statuses;
}

/** `bench images build`: the toolchain image from the Dockerfile we ship. */
export async function buildToolchainImage(name: string, options: { tag?: string; base?: string; onOutput?: (line: string) => void } = {}): Promise<string> {
  const e = engineFor(name);
  const tag = options.tag ?? TOOLCHAIN_IMAGE;
  const args = ['build', '-t', tag, '-f', TOOLCHAIN_DOCKERFILE, '--ulimit', 'nofile=1024:1024', ...(options.base ? ['--build-arg', `BASE=${options.base}`] : []), fileURLToPath(new URL('../../../docker/', import.meta.url))];
  const built = await engine(e, args, { timeoutMs: 60 * 60 * 1000 });
  if (built.exitCode !== 0) {
    throw engineError(`Building ${tag} from ${TOOLCHAIN_DOCKERFILE} failed`, built,
      `It needs the base image ${options.base ?? 'node:24-bookworm-slim'} (pulled by the engine, so network access) and, without Python 3 and git in it, Debian's packages. Pass --base NAME for a local base image, or run with \`--sandbox bwrap\`.`);
  }
  return tag;
}
