export type {
  EnvironmentSpec,
  EnvironmentTarget,
  ExecOptions,
  ExecResult,
  Limits,
  PreparedEnvironment,
  Sandbox,
  SandboxKind,
  Workspace,
} from './_types.ts';
export { DEFAULT_LIMITS } from './_types.ts';
export { prepareEnvironment, sharedDirsOf } from './_environment.ts';
export { createSandbox, sandboxBackend, sandboxFlag, imageFlag, SANDBOXES, SANDBOX_NAMES, DEFAULT_SANDBOX } from './_registry.ts';
export type { SandboxBackend, SandboxName, SandboxOptions } from './_registry.ts';
export { bwrapAvailable } from './_bwrap.ts';
export { imageFor, swebenchImage, TOOLCHAIN_IMAGE } from './container/_images.ts';
