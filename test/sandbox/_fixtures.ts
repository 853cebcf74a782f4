import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import type { Workspace } from '../../src/sandbox/index.ts';

/** A scratch directory removed by the returned cleanup. */
export async function scratchDir(prefix: string): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `bench-${prefix}-`));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** The files of a small repository: `count` files spread over a few packages. */
export function smallRepoFiles(count = 30): Record<string, string> {
  const files: Record<string, string> = {
    'README.md': '# demo\n',
    '.gitignore': 'build/\n',
    'src/calc.py': 'def add(a, b):\n    return a - b\n',
    'tests/test_calc.py': 'from src.calc import add\n\ndef test_add():\n    assert add(2, 3) == 5\n',
  };
  for (let i = Object.keys(files).length; i < count; i++) {
    files[`pkg${i % 4}/module_${i}.py`] = `VALUE_${i} = ${i}\n`.repeat(20);
  }
  return files;
}

export async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, name)), { recursive: true });
    await writeFile(join(root, name), content);
  }
}

/**
 * A git checkout whose history holds a "future" commit, a tag and a remote, reset back to the
 * first commit: what a task repository looks like before we copy it.
 */
export async function repoWithFuture(root: string, files: Record<string, string>): Promise<void> {
  await writeFiles(root, files);
  const env = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' };
  const git = (...args: string[]) => execa('git', args, { cwd: root, env });
  await git('init', '-q', '-b', 'main');
  await git('add', '-A');
  await git('commit', '-qm', 'base');
  await writeFile(join(root, 'src/calc.py'), 'def add(a, b):\n    return a + b  # THE-FUTURE-FIX\n');
  await git('commit', '-qam', 'future fix');
  await git('tag', 'v-future');
  await git('remote', 'add', 'origin', 'https://example.invalid/repo.git');
  await git('reset', '-q', '--hard', 'HEAD~1');
}

/** Command lines of all processes on the machine containing `marker`. */
export async function processesWith(marker: string): Promise<string[]> {
  const { stdout } = await execa('ps', ['-eo', 'pid=,args=']);
  return stdout.split('\n').filter((line) => line.includes(marker) && !line.includes('ps -eo'));
}

/** The workspace's patch; fails the test when the diff came back oversized. */
export async function patchOf(workspace: Workspace): Promise<string> {
  const diff = await workspace.diff();
  if (!diff.ok) throw new Error(`expected a patch, got: ${diff.message}`);
  return diff.patch;
}

// Each probe makes the call through libc or by number and prints the errno's name.
export const SYSCALL_PROBE = String.raw`
import ctypes, errno, json, os, platform, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
arm = platform.machine() == 'aarch64'
NR = {'add_key': 217 if arm else 248, 'request_key': 218 if arm else 249, 'keyctl': 219 if arm else 250,
      'bpf': 280 if arm else 321, 'perf_event_open': 241 if arm else 298, 'io_uring_setup': 425,
      'pidfd_open': 434, 'pidfd_getfd': 438}
def outcome(result):
    return 'ok' if result >= 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
def call(name, *args):
    ctypes.set_errno(0)
    return outcome(libc.syscall(NR[name], *args))
results = {}
child = os.fork()
if child == 0:
    time.sleep(30)
    os._exit(0)
PTRACE_ATTACH, PTRACE_TRACEME = 16, 0
results['ptrace_attach'] = outcome(libc.ptrace(PTRACE_ATTACH, child, None, None))
results['ptrace_traceme'] = outcome(libc.ptrace(PTRACE_TRACEME, 0, None, None))
class iovec(ctypes.Structure):
    _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
buf = ctypes.create_string_buffer(8)
local = iovec(ctypes.cast(buf, ctypes.c_void_p), 8)
remote = iovec(ctypes.cast(buf, ctypes.c_void_p), 8)
results['process_vm_readv'] = outcome(libc.process_vm_readv(child, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0))
pidfd = libc.syscall(NR['pidfd_open'], child, 0)
results['pidfd_open'] = 'ok' if pidfd >= 0 else 'failed'
results['pidfd_getfd'] = call('pidfd_getfd', pidfd, 0, 0)
KEY = sys.argv[1].encode()
results['add_key'] = call('add_key', b'user', KEY, b'hidden-test-content', 19, ctypes.c_long(-4))
results['add_key_session'] = call('add_key', b'user', KEY, b'hidden-test-content', 19, ctypes.c_long(-3))
results['request_key'] = call('request_key', b'user', KEY, None, 0)
results['keyctl'] = call('keyctl', 0, ctypes.c_long(-4), 0)
results['bpf'] = call('bpf', 0, None, 0)
results['perf_event_open'] = call('perf_event_open', None, 0, -1, -1, 0)
results['io_uring_setup'] = call('io_uring_setup', 8, None)
results['unshare_user'] = outcome(libc.unshare(0x10000000))
results['unshare_mount'] = outcome(libc.unshare(0x00020000))
results['mount'] = outcome(libc.mount(b'none', b'/tmp', b'tmpfs', 0, None))
os.kill(child, 9)
os.waitpid(child, 0)
print(json.dumps(results))
`;

export const DENIED_PROBES = [
  'ptrace_attach', 'ptrace_traceme', 'process_vm_readv', 'pidfd_getfd', 'add_key', 'add_key_session', 'request_key', 'keyctl',
  'bpf', 'perf_event_open', 'io_uring_setup', 'unshare_user', 'unshare_mount', 'mount',
];
