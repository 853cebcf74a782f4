import { UserError, didYouMean } from '../errors.ts';
import { DEFAULT_SANDBOX, IMAGE_SANDBOXES, SANDBOX_NAMES, SANDBOX_SUMMARIES, type SandboxName } from './_names.ts';
import { bwrapAvailable } from './_bwrap.ts';
import { BWRAP_MISSING, createHostSandbox } from './_sandbox.ts';
import type { Limits, Sandbox } from './_types.ts';
import { containerUnavailable, createContainerSandbox } from './container/_sandbox.ts';
import { buildToolchainImage, checkImages, removeLeftovers, type ImageStatus, type Leftovers } from './container/_manage.ts';

export type SandboxOptions = {
  limits?: Partial<Limits>;
  /** Host backends: where workspace copies are made (default: the system temp dir). */
  workDir?: string;
  /** Host backends: host paths no command may see, beyond the harness's own checkout, results and cache (task suites, datasets). */
  hiddenPaths?: readonly string[];
  /** Image backends: `--image`, one image for every instance (`{instance_id}` filled in). */
  image?: string;
  /** Image backends: a label naming the run on every container. */
  runLabel?: string;
};

export type SandboxBackend = {
  /** One line for `--help`. */
  summary: string;
  /** Whether commands are isolated from the host; a backend that does not is never chosen for model code unasked. */
  isolates: boolean;
  /** Backends whose workspaces start from images: `--image` and `bench images` apply to them. */
  images?: {
    check(needed: Map<string, string[]>): Promise<ImageStatus[]>;
    build(options: { tag?: string; base?: string }): Promise<string>;
  };
  /** Backends that can leave something behind when the harness is killed: `bench sandbox gc` removes it. */
  leftovers?(options: { run?: string; all?: boolean }): Promise<Leftovers>;
  /** Null when it can run here, else one paragraph: what is missing and how to fix it. */
  unavailable(): Promise<string | null>;
  create(options: SandboxOptions): Sandbox;
};

/** Every sandbox backend. Adding one is a line here and its own file or folder. */
export const SANDBOXES = {
  bwrap: {
    summary: SANDBOX_SUMMARIES.bwrap,
    isolates: true,
    unavailable: async () => ((await bwrapAvailable()) ? null : BWRAP_MISSING),
    create: (options) => createHostSandbox('bwrap', options),
  },
  local: {
    summary: SANDBOX_SUMMARIES.local,
    isolates: false,
    unavailable: async () => null,
    create: (options) => createHostSandbox('local', options),
  },
  docker: {
    summary: SANDBOX_SUMMARIES.docker,
    isolates: true,
    images: { check: (needed) => checkImages('docker', needed), build: (options) => buildToolchainImage('docker', options) },
    leftovers: (options) => removeLeftovers('docker', options),
    unavailable: () => containerUnavailable('docker'),
    create: (options) => createContainerSandbox('docker', options),
  },
  podman: {
    summary: SANDBOX_SUMMARIES.podman,
    isolates: true,
    images: { check: (needed) => checkImages('podman', needed), build: (options) => buildToolchainImage('podman', options) },
    leftovers: (options) => removeLeftovers('podman', options),
    unavailable: () => containerUnavailable('podman'),
    create: (options) => createContainerSandbox('podman', options),
  },
} satisfies Record<SandboxName, SandboxBackend>;

export { DEFAULT_SANDBOX, SANDBOX_NAMES, type SandboxName };

/** The registry entry for a name, or an error listing the valid ones. */
export function sandboxBackend(name: string, flag = '--sandbox'): SandboxBackend {
  if (!Object.hasOwn(SANDBOXES, name)) {
    throw new UserError(`${flag} must be one of ${SANDBOX_NAMES.join(', ')}, got \`${name}\`.${didYouMean(name, SANDBOX_NAMES)}`);
  }
  return SANDBOXES[name as SandboxName];
}

export function createSandbox(name: string, options: SandboxOptions = {}): Sandbox {
  return sandboxBackend(name).create(options);
}

/** The backends that run images (the entries above with `images`). */
export function imageSandboxes(): SandboxName[] {
  return [...IMAGE_SANDBOXES];
}
