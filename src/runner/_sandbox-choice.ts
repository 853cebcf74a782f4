import { DEFAULT_SANDBOX, SANDBOXES, SANDBOX_NAMES, imageFor, imageSandboxes, sandboxBackend, type Sandbox, type SandboxBackend } from '../sandbox/index.ts';
import type { Instance } from '../tasks/index.ts';
import { UserError } from '../errors.ts';

export type SandboxRequest = {
  /** `--sandbox`, when given. */
  requested?: string;
  /** `--image`, when given. */
  image?: string;
  /** Model-generated code will run: it never runs unisolated unless asked for by name. */
  modelCode: boolean;
  runLabel?: string;
  /** Task files and predictions on the host that no sandboxed command may see. */
  hiddenPaths?: string[];
  warn: (message: string) => void;
};

/**
 * The default backend unless one is named. A named backend that cannot run here is an error with its
 * own fix; the default falling short lets the gold and empty baselines run unisolated, with a warning.
 */
export async function chooseSandbox(request: SandboxRequest): Promise<Sandbox> {
  const name = request.requested ?? DEFAULT_SANDBOX;
  const backend = sandboxBackend(name);
  if (request.image !== undefined && !backend.images) {
    const imageBackends = imageSandboxes();
    throw new UserError(`--image ${request.image} names a container image, but --sandbox ${name} runs no images. Add --sandbox ${imageBackends.join(' or --sandbox ')}, or drop --image.`);
  }
  const options = { image: request.image, runLabel: request.runLabel, hiddenPaths: request.hiddenPaths };
  const missing = await backend.unavailable();
  if (!missing) return backend.create(options);
  const fallback = SANDBOX_NAMES.find((n) => !SANDBOXES[n].isolates);
  if (request.requested !== undefined || request.modelCode || !fallback) {
    const unisolated = fallback ? ` Model-generated code only runs in a sandbox; \`--sandbox ${fallback}\` runs it unisolated at your own risk.` : '';
    throw new UserError(`${missing}${request.requested === undefined ? unisolated : ''}`);
  }
  request.warn(`${missing.split('. ')[0]}; the gold/empty baselines run with --sandbox ${fallback} (no isolation).`);
  return SANDBOXES[fallback].create(options);
}

/** The images a set of instances runs in under an image backend, each with the instances that need it. */
export function imagesOf(instances: Instance[], template?: string): Map<string, string[]> {
  const needed = new Map<string, string[]>();
  for (const instance of instances) {
    const image = imageFor({ instanceId: instance.instance_id, image: instance.image, swebench: instance.source.kind === 'dataset' }, template);
    needed.set(image, [...(needed.get(image) ?? []), instance.instance_id]);
  }
  return needed;
}

/** The backend named for `bench images` / `bench sandbox gc`: an image backend, docker unless podman is the one installed. */
export async function imageBackend(requested: string | undefined): Promise<{ name: string; backend: SandboxBackend }> {
  const names = imageSandboxes();
  if (requested !== undefined) {
    const backend = sandboxBackend(requested);
    if (!backend.images) throw new UserError(`--sandbox ${requested} runs no images; name one of ${names.join(', ')}.`);
    return { name: requested, backend };
  }
  for (const name of names) if (!(await SANDBOXES[name].unavailable())) return { name, backend: SANDBOXES[name] };
  throw new UserError((await SANDBOXES[names[0]!].unavailable())!);
}
