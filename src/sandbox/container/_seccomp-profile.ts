import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DENIED_SYSCALL_NAMES } from '../_types.ts';

/** The namespace flags of clone(2): a process that may create namespaces may leave the container's view. */
const CLONE_NAMESPACE_FLAGS = [0x80, 0x20000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000];
const EPERM = 1;
const ENOSYS = 38;

/**
 * The engine's seccomp profile (Docker's JSON format, which podman reads too) built from the same
 * list as the bwrap filter: everything allowed but the denied calls (EPERM), clone with a namespace
 * flag (EPERM), and clone3 (ENOSYS, so libc falls back to clone, whose flags a filter can read).
 * Only the machine's own architecture is listed, so calls made through another ABI are refused.
 */
export function seccompProfile(arch: string = process.arch): Record<string, unknown> {
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: [arch === 'arm64' ? 'SCMP_ARCH_AARCH64' : 'SCMP_ARCH_X86_64'],
    syscalls: [
      { names: [...DENIED_SYSCALL_NAMES], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM },
      ...CLONE_NAMESPACE_FLAGS.map((flag) => ({
        names: ['clone'], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM,
        args: [{ index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ' }],
      })),
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
    ],
  };
}

let written: string | undefined;

/** The profile's file, written once per process in a private folder; engines read it at each `run`. */
export function seccompProfilePath(): string {
  if (written === undefined) {
    const path = join(mkdtempSync(join(tmpdir(), 'bench-seccomp-')), 'profile.json');
    writeFileSync(path, `${JSON.stringify(seccompProfile())}\n`, { mode: 0o644 });
    written = path;
  }
  return written;
}
