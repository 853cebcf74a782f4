import { closeSync, openSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { privateDir } from './_private.ts';
import { DENIED_SYSCALL_NAMES } from './_types.ts';

/**
 * A classic BPF seccomp program in the spirit of Docker's default profile, assembled here so
 * no extra package or process is needed: DENIED_SYSCALL_NAMES fail with EPERM (clone3 with
 * ENOSYS, so libc falls back to clone, whose flags a filter can read), clone may not create
 * namespaces, and only the x86_64 and aarch64 native ABIs are let through.
 */

/** Numbers of the denied syscalls (DENIED_SYSCALL_NAMES) as [x86_64, aarch64]; null where the architecture has none. */
export const SYSCALL_NUMBERS: Readonly<Record<string, readonly [number | null, number | null]>> = Object.freeze({
  // Reading or steering other processes, and taking their descriptors.
  ptrace: [101, 117],
  process_vm_readv: [310, 270],
  process_vm_writev: [311, 271],
  process_madvise: [440, 440],
  pidfd_getfd: [438, 438],
  kcmp: [312, 272],
  move_pages: [279, 239],
  // The kernel keyring is not namespaced: keys would outlive the sandbox.
  add_key: [248, 217],
  request_key: [249, 218],
  keyctl: [250, 219],
  // Kernel attack surface a test never needs.
  bpf: [321, 280],
  perf_event_open: [298, 241],
  userfaultfd: [323, 282],
  io_uring_setup: [425, 425],
  io_uring_enter: [426, 426],
  io_uring_register: [427, 427],
  // Mounts, namespaces and the root directory.
  mount: [165, 40],
  umount2: [166, 39],
  pivot_root: [155, 41],
  chroot: [161, 51],
  open_tree: [428, 428],
  move_mount: [429, 429],
  fsopen: [430, 430],
  fsconfig: [431, 431],
  fsmount: [432, 432],
  fspick: [433, 433],
  mount_setattr: [442, 442],
  unshare: [272, 97],
  setns: [308, 268],
  name_to_handle_at: [303, 264],
  open_by_handle_at: [304, 265],
  fanotify_init: [300, 262],
  // The machine itself: modules, clocks, swap, reboot, accounting, quotas, the kernel log.
  init_module: [175, 105],
  finit_module: [313, 273],
  delete_module: [176, 106],
  create_module: [174, null],
  get_kernel_syms: [177, null],
  query_module: [178, null],
  kexec_load: [246, 104],
  kexec_file_load: [320, 294],
  reboot: [169, 142],
  swapon: [167, 224],
  swapoff: [168, 225],
  acct: [163, 89],
  quotactl: [179, 60],
  quotactl_fd: [443, 443],
  syslog: [103, 116],
  settimeofday: [164, 170],
  clock_settime: [227, 112],
  clock_adjtime: [305, 266],
  vhangup: [153, 58],
  lookup_dcookie: [212, 18],
  nfsservctl: [180, 42],
  uselib: [134, null],
  ustat: [136, null],
  sysfs: [139, null],
  _sysctl: [156, null],
  ioperm: [173, null],
  iopl: [172, null],
});

const CLONE: readonly [number, number] = [56, 220];
const CLONE3 = 435;
/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET (CLONE_NEWTIME's bit is the exit signal's in clone). */
const CLONE_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;
/** x32 syscalls share x86_64's audit arch and are told apart by this bit. */
const X32_SYSCALL_BIT = 0x40000000;

const AUDIT_ARCH_X86_64 = 0xc000003e;
const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const EPERM = 1;
const ENOSYS = 38;

// struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6] (little-endian on both arches).
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const OFFSET_ARG0_LOW = 16;

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGE_K = 0x35;
const BPF_JSET_K = 0x45;
const BPF_RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;

type Target = string | 0;
type Instruction = { code: number; k: number; jt?: Target; jf?: Target; label?: string };

const load = (offset: number, label?: string): Instruction => ({ code: BPF_LD_W_ABS, k: offset, ...(label ? { label } : {}) });
const ret = (value: number, label?: string): Instruction => ({ code: BPF_RET_K, k: value, ...(label ? { label } : {}) });
const jump = (code: number, k: number, jt: Target, jf: Target = 0): Instruction => ({ code, k, jt, jf });

function archBlock(index: 0 | 1, label: string): Instruction[] {
  const block: Instruction[] = [load(OFFSET_NR, label)];
  if (index === 0) block.push(jump(BPF_JGE_K, X32_SYSCALL_BIT, 'deny'));
  block.push(jump(BPF_JEQ_K, CLONE[index], 'clone'), jump(BPF_JEQ_K, CLONE3, 'nosys'));
  for (const name of DENIED_SYSCALL_NAMES) {
    const numbers = SYSCALL_NUMBERS[name];
    if (!numbers) throw new Error(`no syscall number for ${name}`);
    const number = numbers[index];
    if (number !== null) block.push(jump(BPF_JEQ_K, number, 'deny'));
  }
  block.push(ret(RET_ALLOW));
  return block;
}

/** The program as struct sock_filter[] bytes, the form `bwrap --seccomp FD` reads. */
export function seccompProgram(): Buffer {
  const program: Instruction[] = [
    load(OFFSET_ARCH),
    jump(BPF_JEQ_K, AUDIT_ARCH_X86_64, 'x86_64'),
    jump(BPF_JEQ_K, AUDIT_ARCH_AARCH64, 'aarch64'),
    // Any other ABI (i386 through int 0x80, 32-bit arm) would bypass the numbers above.
    ret(RET_ERRNO | EPERM),
    ...archBlock(0, 'x86_64'),
    ...archBlock(1, 'aarch64'),
    load(OFFSET_ARG0_LOW, 'clone'),
    jump(BPF_JSET_K, CLONE_NAMESPACE_FLAGS, 'deny'),
    ret(RET_ALLOW),
    ret(RET_ERRNO | EPERM, 'deny'),
    ret(RET_ERRNO | ENOSYS, 'nosys'),
  ];
  const labels = new Map<string, number>();
  program.forEach((instruction, index) => instruction.label && labels.set(instruction.label, index));
  const bytes = Buffer.alloc(program.length * 8);
  program.forEach((instruction, index) => {
    const offset = (target: Target | undefined): number => {
      if (!target) return 0;
      const distance = labels.get(target)! - index - 1;
      // Conditional jumps only reach 255 instructions ahead.
      if (!(distance >= 0 && distance <= 255)) throw new Error(`seccomp jump to ${target} out of range (${distance})`);
      return distance;
    };
    bytes.writeUInt16LE(instruction.code, index * 8);
    bytes.writeUInt8(offset(instruction.jt), index * 8 + 2);
    bytes.writeUInt8(offset(instruction.jf), index * 8 + 3);
    bytes.writeUInt32LE(instruction.k >>> 0, index * 8 + 4);
  });
  return bytes;
}

let cachedFile: string | undefined;

/** The compiled program, written once per process to its private directory. */
export function seccompFile(): string {
  if (cachedFile) {
    try {
      if (statSync(cachedFile).size > 0) return cachedFile;
    } catch {
      // Removed by a temp cleaner: write it again.
    }
  }
  const file = join(privateDir(), 'filter.bpf');
  writeFileSync(file, seccompProgram(), { mode: 0o400 });
  cachedFile = file;
  return file;
}

/** A fresh read descriptor on the program for one bwrap start (bwrap reads it to the end, so it is not shared). */
export function openSeccompDescriptor(): { fd: number; close: () => void } {
  const fd = openSync(seccompFile(), 'r');
  let closed = false;
  return {
    fd,
    close: () => {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}
