import { randomBytes } from 'node:crypto';
import { UserError } from '../../errors.ts';
import { engine, engineError, type Engine } from './_engine.ts';
import { ownerLabels } from './_labels.ts';

/** The image `bench images build` makes for suites that bring no image: Node 24, Python 3, git, patch. */
export const TOOLCHAIN_IMAGE = 'bench-toolchain:node24-python3';
/** Where SWE-bench's images hold the repository, and where a toolchain image gets it without a working directory of its own. */
export const SWEBENCH_ROOT = '/testbed';
/** SWE-bench's images activate their conda environment with this script. */
export const CONDA_ACTIVATE = '/opt/miniconda3/bin/activate';

/** SWE-bench's name for an instance's evaluation image. */
export function swebenchImage(instanceId: string): string {
  return `swebench/sweb.eval.x86_64.${instanceId.toLowerCase().replace(/__/g, '_1776_')}:latest`;
}

/**
 * The image an instance runs in: `--image` (its `{instance_id}` placeholder filled, lower-cased as image
 * names must be), else the instance's own `image` field, else SWE-bench's naming for SWE-bench rows,
 * else the toolchain image.
 */
export function imageFor(target: { instanceId: string; image?: string; swebench: boolean }, template?: string): string {
  if (template) return template.replaceAll('{instance_id}', target.instanceId.toLowerCase());
  if (target.image) return target.image;
  if (target.swebench) return swebenchImage(target.instanceId);
  return TOOLCHAIN_IMAGE;
}

/** What an image holds, read once without starting it. */
export type ImageLayout = {
  name: string;
  /** Where the repository is (or is copied to) inside. */
  root: string;
  /** The image already holds the repository at `root` (SWE-bench's layout). */
  holdsRepository: boolean;
  /** Commands run in SWE-bench's `testbed` conda environment. */
  conda: boolean;
};

export function pullHint(engineName: string, image: string): string {
  return image === TOOLCHAIN_IMAGE
    ? `Build it with \`bench images build\` (or \`${engineName} pull\` an image and pass it with --image NAME), or run with \`--sandbox bwrap\`.`
    : `Pull it first (\`${engineName} pull ${image}\`), name another with --image NAME, or run with \`--sandbox bwrap\`.`;
}

/** Whether an image is present locally. */
export async function imagePresent(e: Engine, image: string): Promise<boolean> {
  return (await engine(e, ['image', 'inspect', '--format', '{{.Id}}', image])).exitCode === 0;
}

/**
 * Reads an image's layout: its working directory from its config, and whether it holds a git
 * repository at /testbed and SWE-bench's conda activation script, by copying them out of a created
 * (never started) container. A missing image is an error naming the pull command; nothing is pulled.
 */
export async function readLayout(e: Engine, image: string, instanceId: string): Promise<ImageLayout> {
  const inspected = await engine(e, ['image', 'inspect', '--format', '{{.Config.WorkingDir}}', image]);
  if (inspected.exitCode !== 0) {
    throw new UserError(`Instance ${instanceId} needs the container image ${image}, which is not present in ${e.name}'s local images. ${pullHint(e.name, image)}`);
  }
  const name = `bench-probe-${randomBytes(6).toString('hex')}`;
  const created = await engine(e, ['create', '--name', name, ...ownerLabels(), '--network', 'none', '--entrypoint', '/bin/true', image]);
  if (created.exitCode !== 0) {
    await engine(e, ['rm', '-f', name]);
    throw engineError(`Reading image ${image} for instance ${instanceId} failed`, created, 'Check that the engine works (`' + e.name + ' run --rm ' + image + ' true`), or run with `--sandbox bwrap`.');
  }
  try {
    const has = async (path: string) => (await engine(e, ['cp', `${name}:${path}`, '-'])).exitCode === 0;
    const holdsRepository = await has(`${SWEBENCH_ROOT}/.git/HEAD`);
    const conda = await has(CONDA_ACTIVATE);
    const workdir = inspected.stdout.trim();
    const root = holdsRepository || !workdir || workdir === '/' ? SWEBENCH_ROOT : workdir.replace(/\/+$/, '');
    return { name: image, root, holdsRepository, conda };
  } finally {
    await engine(e, ['rm', '-f', name]);
  }
}
