import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rmdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Limits } from './_types.ts';

/**
 * Per-exec cgroups (v1 `memory` and `pids` controllers), nested under the cgroup this
 * process already lives in so any limit placed on the harness still applies above ours. A
 * command held at a gate also starts in a `cpu` cgroup of the lowest weight, raised when the gate
 * opens (see foreground): the preparation of the next gradings then takes mostly CPU time the
 * running tests leave, rather than slowing them. What each exec does here (make, limit, read, remove)
 * is a few small calls on the cgroup filesystem, most made synchronously: they take microseconds, where
 * the promise and thread-pool round trip of an asynchronous call costs the harness's thread more. The
 * memory cgroup's own mkdir and rmdir are the exceptions: the kernel holds them about 0.6 and 2.4 ms,
 * nearly all of it asleep (measured here), so they go through the thread pool and the harness's
 * thread serves the other commands meanwhile.
 */
type CgroupParents = { memory: string; pids: string; cpu?: string };

export type Cgroup = { memoryDir: string; pidsDir: string; cpuDir?: string };

/**
 * The lowest weight, so a preparation takes next to nothing from running tests; one that has not
 * reached its gate after BACKGROUND_GRACE_MS (a large repository, tests that keep every core busy)
 * gets the default weight, so no preparation starves towards its time limit.
 */
const BACKGROUND_SHARES = '2';
const DEFAULT_SHARES = '1024';
export const BACKGROUND_GRACE_MS = 5000;
/**
 * A cgroup's weight is shared by all its processes, so tests that keep every core busy weigh, at
 * this, as much as they would as the separate processes of a raw run: the default weight per core.
 */
export const FOREGROUND_SHARES = String(1024 * availableParallelism());

const CGROUP_MOUNT = '/sys/fs/cgroup';
let parents: Promise<CgroupParents | null> | undefined;
let counter = 0;

/** The directories our per-exec cgroups go under, or null when they cannot be created here. */
export function cgroupParents(): Promise<CgroupParents | null> {
  parents ??= detectParents();
  return parents;
}

async function detectParents(): Promise<CgroupParents | null> {
  if (process.platform !== 'linux') return null;
  let membership: string;
  try {
    membership = await readFile('/proc/self/cgroup', 'utf8');
  } catch {
    return null;
  }
  const paths = new Map<string, string>();
  for (const line of membership.split('\n')) {
    const [, controllers, ...rest] = line.split(':');
    if (!controllers) continue;
    for (const controller of controllers.split(',')) paths.set(controller, rest.join(':'));
  }
  const memoryPath = paths.get('memory');
  const pidsPath = paths.get('pids');
  if (memoryPath === undefined || pidsPath === undefined) return null;
  const found: CgroupParents = { memory: join(CGROUP_MOUNT, 'memory', memoryPath), pids: join(CGROUP_MOUNT, 'pids', pidsPath) };
  const probe = `bench-${process.pid}-probe`;
  const usable = async (parent: string) => {
    await removeStale(parent);
    await mkdir(join(parent, probe));
    await rmdir(join(parent, probe));
  };
  try {
    await usable(found.memory);
    await usable(found.pids);
  } catch {
    return null;
  }
  // Mounted as `cpu` or together with cpuacct; without it, gated commands just keep the default weight.
  const cpuPath = paths.get('cpu');
  if (cpuPath !== undefined) {
    const mount = [join(CGROUP_MOUNT, 'cpu'), join(CGROUP_MOUNT, 'cpu,cpuacct')].find((dir) => existsSync(join(dir, 'cpu.shares')));
    const cpu = mount && join(mount, cpuPath);
    if (cpu && (await usable(cpu).then(() => true, () => false))) found.cpu = cpu;
  }
  return found;
}

/** Cgroups left by a harness process that died before cleaning up. */
async function removeStale(parent: string): Promise<void> {
  for (const name of await readdir(parent)) {
    const owner = /^bench-(\d+)-/.exec(name)?.[1];
    if (owner === undefined || processAlive(Number(owner))) continue;
    await killMembers(join(parent, name));
    await rmdir(join(parent, name)).catch(() => undefined);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A fresh cgroup with the memory and process-count limits set, or null when unavailable. With
 * `background`, in the lowest CPU weight too, until `foreground` (where a cpu controller is mounted).
 */
export async function createCgroup(limits: Limits, options: { background?: boolean } = {}): Promise<Cgroup | null> {
  const found = await cgroupParents();
  if (!found) return null;
  const name = `bench-${process.pid}-${++counter}`;
  const cgroup: Cgroup = { memoryDir: join(found.memory, name), pidsDir: join(found.pids, name) };
  try {
    await mkdir(cgroup.memoryDir);
    mkdirSync(cgroup.pidsDir);
    const bytes = String(limits.memoryMb * 1024 * 1024);
    writeFileSync(join(cgroup.memoryDir, 'memory.limit_in_bytes'), bytes);
    try {
      // Without this, swap (where there is any) would extend the limit.
      writeFileSync(join(cgroup.memoryDir, 'memory.memsw.limit_in_bytes'), bytes);
    } catch {
      // No swap accounting here: there is no swap to extend it either.
    }
    writeFileSync(join(cgroup.pidsDir, 'pids.max'), String(limits.maxProcesses));
  } catch {
    await removeCgroup(cgroup);
    return null;
  }
  if (options.background && found.cpu) {
    const cpuDir = join(found.cpu, name);
    try {
      mkdirSync(cpuDir);
      cgroup.cpuDir = cpuDir;
      writeFileSync(join(cpuDir, 'cpu.shares'), BACKGROUND_SHARES);
    } catch {
      // The default weight, then: only the overlap with other commands is less gentle.
    }
  }
  return cgroup;
}

/** The low-weight `cpu` cgroup at the default weight (a preparation past its grace). */
export function fullWeight(cgroup: Cgroup): void {
  setShares(cgroup, DEFAULT_SHARES);
}

/**
 * The weight of a gated command whose gate opened (its sandbox and the script waiting at the gate,
 * which then starts the tests), raised to FOREGROUND_SHARES. One small write on the hand-over's
 * clock: moving the processes back to our own cgroup instead would wait for an RCU grace period
 * per move (7 to 12 ms each, measured here), with the harness's thread blocked.
 */
export function foreground(cgroup: Cgroup): void {
  setShares(cgroup, FOREGROUND_SHARES);
}

function setShares(cgroup: Cgroup, shares: string): void {
  if (!cgroup.cpuDir) return;
  try {
    writeFileSync(join(cgroup.cpuDir, 'cpu.shares'), shares);
  } catch {
    // Gone meanwhile: the command ended.
  }
}

/** The files a process writes its pid to in order to join the cgroup. */
export function cgroupProcsFiles(cgroup: Cgroup): string[] {
  return [cgroup.memoryDir, cgroup.pidsDir, ...(cgroup.cpuDir ? [cgroup.cpuDir] : [])].map((dir) => join(dir, 'cgroup.procs'));
}

function members(dir: string): number[] {
  try {
    const text = readFileSync(join(dir, 'cgroup.procs'), 'utf8');
    return text.split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function killMembers(dir: string): Promise<void> {
  for (let round = 0; round < 400; round++) {
    const pids = members(dir);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    // Killed members leave within a millisecond or two; poll fast first, then back off.
    await sleep(round < 20 ? 1 : 5);
  }
}

/**
 * What the limits refused while the cgroup lived: a process (`pids.events`' max count) or
 * memory (the OOM killer's count). Read before the cgroup is removed.
 */
export function cgroupRefusal(cgroup: Cgroup): 'processes' | 'memory' | undefined {
  const count = (file: string, key: string) => {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // Gone or unreadable: nothing counted.
    }
    return Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  };
  if (count(join(cgroup.pidsDir, 'pids.events'), 'max') > 0) return 'processes';
  if (count(join(cgroup.memoryDir, 'memory.oom_control'), 'oom_kill') > 0) return 'memory';
  return undefined;
}

/** Kills every process still in the cgroup, waiting until none is left. */
export async function killCgroup(cgroup: Cgroup): Promise<void> {
  await killMembers(cgroup.pidsDir);
  await killMembers(cgroup.memoryDir);
}

/** Removes the cgroup, killing its members first unless the caller just did (`emptied`). */
export async function removeCgroup(cgroup: Cgroup, options: { emptied?: boolean } = {}): Promise<void> {
  if (!options.emptied) await killCgroup(cgroup);
  for (const dir of [cgroup.memoryDir, cgroup.pidsDir, ...(cgroup.cpuDir ? [cgroup.cpuDir] : [])]) {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        if (dir === cgroup.memoryDir) await rmdir(dir);
        else rmdirSync(dir);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        await sleep(10);
      }
    }
  }
}
