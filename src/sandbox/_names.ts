/**
 * The sandbox backends by name, with their one-line summaries: what option parsing and `--help`
 * need, without loading any backend (the registry in _registry.ts holds the backends themselves).
 */
export const SANDBOX_SUMMARIES = {
  bwrap: 'bubblewrap namespaces on the host: no network, read-only system, limits (the default)',
  local: 'commands run directly on the host, with no isolation',
  docker: 'a Docker container per workspace, from the instance\'s image (SWE-bench\'s images included)',
  podman: 'as docker, with podman',
} as const;

export type SandboxName = keyof typeof SANDBOX_SUMMARIES;
export const DEFAULT_SANDBOX: SandboxName = 'bwrap';
export const SANDBOX_NAMES = Object.keys(SANDBOX_SUMMARIES) as SandboxName[];
/** The backends whose workspaces start from images: `--image` and `bench images` apply to them. */
export const IMAGE_SANDBOXES: readonly SandboxName[] = ['docker', 'podman'];
