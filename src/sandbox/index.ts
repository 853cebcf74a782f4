export type {
  EnvironmentSpec,
  ExecOptions,
  ExecResult,
  Limits,
  PreparedEnvironment,
  Sandbox,
  SandboxKind,
  Workspace,
  WorkspaceDiff,
} from './_types.ts';
export { DEFAULT_LIMITS, DENIED_SYSCALL_NAMES, DIFF_TIMEOUT_MS, INHERITED_FDS } from './_types.ts';
export { prepareEnvironment, sharedDirsOf } from './_environment.ts';
export { createSandbox } from './_sandbox.ts';
export { bwrapAvailable } from './_bwrap.ts';
