import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seccompProgram, SYSCALL_NUMBERS } from '../../src/sandbox/_seccomp.ts';
import { bwrapAvailable, createSandbox, DENIED_SYSCALL_NAMES, prepareEnvironment } from '../../src/sandbox/index.ts';
import type { Workspace } from '../../src/sandbox/index.ts';
import { DENIED_PROBES, SYSCALL_PROBE, scratchDir, smallRepoFiles, writeFiles } from './_fixtures.ts';

const AUDIT_ARCH = { x86_64: 0xc000003e, aarch64: 0xc00000b7, i386: 0x40000003 } as const;
const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;

/** Runs a classic BPF seccomp program on one system call, as the kernel would. */
function evaluate(program: Buffer, call: { arch: number; nr: number; args?: number[] }): number {
  const data = Buffer.alloc(64);
  data.writeInt32LE(call.nr, 0);
  data.writeUInt32LE(call.arch, 4);
  (call.args ?? []).forEach((arg, index) => data.writeUInt32LE(arg >>> 0, 16 + index * 8));
  let accumulator = 0;
  for (let pc = 0; pc < program.length / 8; pc++) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    if (code === 0x20) accumulator = data.readUInt32LE(k);
    else if (code === 0x06) return k;
    else if (code === 0x15) pc += accumulator === k ? jt : jf;
    else if (code === 0x35) pc += accumulator >= k ? jt : jf;
    else if (code === 0x45) pc += (accumulator & k) !== 0 ? jt : jf;
    else throw new Error(`unexpected BPF instruction ${code.toString(16)} at ${pc}`);
  }
  throw new Error('the program fell off its end');
}

describe('the seccomp program', () => {
  const program = seccompProgram();
  const CLONE_NEWUSER = 0x10000000;
  const SIGCHLD = 17;

  it('refuses every denied call on both architectures and lets ordinary ones through', () => {
    for (const [index, arch] of [AUDIT_ARCH.x86_64, AUDIT_ARCH.aarch64].entries()) {
      for (const name of DENIED_SYSCALL_NAMES) {
        const nr = SYSCALL_NUMBERS[name]![index];
        if (nr !== null && nr !== undefined) expect([name, evaluate(program, { arch, nr })]).toEqual([name, EPERM]);
      }
    }
    // read, write, openat, execve, getpid / their aarch64 numbers.
    for (const nr of [0, 1, 257, 59, 39]) expect(evaluate(program, { arch: AUDIT_ARCH.x86_64, nr })).toBe(ALLOW);
    for (const nr of [63, 64, 56, 221, 172]) expect(evaluate(program, { arch: AUDIT_ARCH.aarch64, nr })).toBe(ALLOW);
  });

  it('lets clone make threads and processes but not namespaces, and sends clone3 back to clone', () => {
    for (const [arch, clone] of [[AUDIT_ARCH.x86_64, 56], [AUDIT_ARCH.aarch64, 220]] as const) {
      expect(evaluate(program, { arch, nr: clone, args: [SIGCHLD] })).toBe(ALLOW);
      expect(evaluate(program, { arch, nr: clone, args: [0x003d0f00] })).toBe(ALLOW); // pthread_create's flags
      expect(evaluate(program, { arch, nr: clone, args: [CLONE_NEWUSER | SIGCHLD] })).toBe(EPERM);
      expect(evaluate(program, { arch, nr: clone, args: [0x40000000] })).toBe(EPERM); // CLONE_NEWNET
      expect(evaluate(program, { arch, nr: 435 })).toBe(ENOSYS);
    }
  });

  it('refuses other ABIs that would bypass the numbers: x32 calls and 32-bit x86', () => {
    expect(evaluate(program, { arch: AUDIT_ARCH.x86_64, nr: 0x40000000 | 101 })).toBe(EPERM);
    expect(evaluate(program, { arch: AUDIT_ARCH.x86_64, nr: 0x40000000 })).toBe(EPERM);
    expect(evaluate(program, { arch: AUDIT_ARCH.i386, nr: 20 })).toBe(EPERM);
  });

  // libseccomp's own tables (Debian's python3-seccomp) as an independent check of our numbers.
  const python = '/usr/bin/python3';
  it('uses the syscall numbers libseccomp knows for x86_64 and aarch64', async (context) => {
    const probe = await execa(python, ['-c', 'import seccomp'], { reject: false });
    if (probe.exitCode !== 0) return context.skip('python3-seccomp is not installed (apt-get install python3-seccomp)');
    const script = [
      'import json, sys, seccomp',
      'names = json.loads(sys.argv[1])',
      'out = {}',
      'for n in names:',
      '    r = [seccomp.resolve_syscall(a, n) for a in (seccomp.Arch.X86_64, seccomp.Arch.AARCH64)]',
      '    out[n] = [x if x >= 0 else None for x in r]',
      'print(json.dumps(out))',
    ].join('\n');
    const names = [...DENIED_SYSCALL_NAMES];
    const { stdout } = await execa(python, ['-c', script, JSON.stringify(names)]);
    const expected = JSON.parse(stdout) as Record<string, [number | null, number | null]>;
    for (const name of names) expect([name, SYSCALL_NUMBERS[name]]).toEqual([name, expected[name]]);
  });
});

// With shared dependencies, commands start through the overlay's mount namespace: the filter must hold there too.
describe.skipIf(!(await bwrapAvailable())).each([
  { how: 'a plain workspace', install: undefined },
  { how: 'a workspace with shared dependencies', install: 'mkdir -p node_modules/dep && echo shared > node_modules/dep/index.js' },
])('system calls inside the bwrap sandbox, $how', ({ install }) => {
  let scratch: Awaited<ReturnType<typeof scratchDir>>;
  let workspace: Workspace;

  beforeAll(async () => {
    scratch = await scratchDir('seccomp');
    await writeFiles(join(scratch.path, 'repo'), { ...smallRepoFiles(6), 'probe.py': SYSCALL_PROBE });
    const environment = await prepareEnvironment(
      { repoDir: join(scratch.path, 'repo'), key: 'seccomp', ...(install ? { install } : {}) },
      { cacheDir: join(scratch.path, 'cache') },
    );
    workspace = await createSandbox('bwrap', { workDir: join(scratch.path, 'work') }).createWorkspace(environment);
  });
  afterAll(async () => {
    await workspace?.destroy();
    await scratch?.cleanup();
  });

  it('refuses ptrace, process_vm_readv, pidfd_getfd, keyring calls, bpf, perf, io_uring, unshare and mount with EPERM', async () => {
    const result = await workspace.exec(`python3 probe.py bench-probe-${process.pid}`, { timeoutMs: 20_000 });
    expect(result.exitCode, result.output).toBe(0);
    const outcomes = JSON.parse(result.output.trim().split('\n').at(-1)!) as Record<string, string>;
    // pidfd_open stays allowed (it only names a process), so pidfd_getfd is refused on a real descriptor.
    expect(outcomes.pidfd_open).toBe('ok');
    for (const probe of DENIED_PROBES) expect([probe, outcomes[probe]]).toEqual([probe, 'EPERM']);
  });

  it('keeps the host keyring untouched: a key added inside never appears there, one added outside does', async () => {
    const description = `bench-keyring-${process.pid}-${Date.now()}`;
    const addKey = `import ctypes, platform; libc = ctypes.CDLL(None, use_errno=True); ` +
      `nr = 217 if platform.machine() == 'aarch64' else 248; ` +
      `print(libc.syscall(nr, b'user', b'${description}', b'secret-gold-patch', 17, ctypes.c_long(-4)), ctypes.get_errno())`;
    const inside = await workspace.exec(`python3 -c "${addKey}"`, { timeoutMs: 10_000 });
    expect(inside.output.trim()).toBe('-1 1');
    expect(await readFile('/proc/keys', 'utf8')).not.toContain(description);

    // The same call made outside the sandbox does reach the keyring /proc/keys shows, so the check above can fail.
    const control = `${description}-control`;
    const outside = await execa('/usr/bin/python3', ['-c', addKey.replace(description, control)], { reject: false });
    const id = Number(String(outside.stdout).trim().split(' ')[0]);
    try {
      if (!(id > 0)) return;
      expect(await readFile('/proc/keys', 'utf8')).toContain(control);
    } finally {
      if (id > 0) {
        const keyctl = `import ctypes, platform; libc = ctypes.CDLL(None); libc.syscall(219 if platform.machine() == 'aarch64' else 250, 21, ${id})`;
        await execa('/usr/bin/python3', ['-c', keyctl], { reject: false });
      }
    }
  });

  it('still runs threads, child processes and worker threads', async () => {
    const result = await workspace.exec(
      'python3 -c "import threading, subprocess; t = threading.Thread(target=print, args=(\'thread\',)); t.start(); t.join(); ' +
        'print(subprocess.run([\'echo\', \'child\'], capture_output=True, text=True).stdout.strip())" && ' +
        'node -e "const { Worker } = require(\'node:worker_threads\'); new Worker(\'console.log(1 + 1)\', { eval: true })" && ' +
        'git status --short | head -1',
      { timeoutMs: 20_000 },
    );
    expect(result.exitCode, result.output).toBe(0);
    expect(result.output).toBe('thread\nchild\n2\n');
    if (install) expect((await workspace.exec('cat node_modules/dep/index.js', { timeoutMs: 10_000 })).output).toBe('shared\n');
  });
});
