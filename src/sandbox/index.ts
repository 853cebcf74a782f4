export type {
  EnvironmentSpec,
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
export { createSandbox } from './_sandbox.ts';
export { bwrapAvailable } from './_bwrap.ts';
