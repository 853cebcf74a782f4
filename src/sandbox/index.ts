export type {
  EnvironmentSpec,
  EnvironmentTarget,
  ExecGate,
  ExecOptions,
  ExecResult,
  HostView,
  Limits,
  PreparedEnvironment,
  Sandbox,
  SandboxKind,
  Workspace,
  WorkspaceDiff,
} from './_types.ts';
export { DEFAULT_LIMITS, DENIED_SYSCALL_NAMES, DIFF_TIMEOUT_MS, INHERITED_FDS } from './_types.ts';
export { prepareEnvironment, sharedDirsOf } from './_environment.ts';
export { createSandbox, sandboxBackend, imageSandboxes, SANDBOXES, SANDBOX_NAMES, DEFAULT_SANDBOX } from './_registry.ts';
export type { ImageStatus, Leftovers } from './container/_manage.ts';
export type { SandboxBackend, SandboxName, SandboxOptions } from './_registry.ts';
export { bwrapAvailable } from './_bwrap.ts';
export { commandEnv } from './_workspace.ts';
export { hostGitGuardsPaths } from './_git.ts';
export { imageFor, swebenchImage, TOOLCHAIN_IMAGE } from './container/_images.ts';
