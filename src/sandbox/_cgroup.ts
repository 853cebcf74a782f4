import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Limits } from './_types.ts';

/**
 * Per-exec cgroups (v1 `memory` and `pids` controllers), nested under the cgroup this
 * process already lives in so any limit placed on the harness still applies above ours.
 */
type CgroupParents = { memory: string; pids: string };

export type Cgroup = { memoryDir: string; pidsDir: string };

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
  const found = { memory: join(CGROUP_MOUNT, 'memory', memoryPath), pids: join(CGROUP_MOUNT, 'pids', pidsPath) };
  const probe = `bench-${process.pid}-probe`;
  try {
    await removeStale(found.memory);
    await removeStale(found.pids);
    await mkdir(join(found.memory, probe));
    await rmdir(join(found.memory, probe));
    await mkdir(join(found.pids, probe));
    await rmdir(join(found.pids, probe));
    return found;
  } catch {
    return null;
  }
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

/** A fresh cgroup with the memory and process-count limits set, or null when unavailable. */
export async function createCgroup(limits: Limits): Promise<Cgroup | null> {
  const found = await cgroupParents();
  if (!found) return null;
  const name = `bench-${process.pid}-${++counter}`;
  const cgroup = { memoryDir: join(found.memory, name), pidsDir: join(found.pids, name) };
  try {
    await mkdir(cgroup.memoryDir);
    await mkdir(cgroup.pidsDir);
    const bytes = String(limits.memoryMb * 1024 * 1024);
    await writeFile(join(cgroup.memoryDir, 'memory.limit_in_bytes'), bytes);
    // Without this, swap (where there is any) would extend the limit.
    await writeFile(join(cgroup.memoryDir, 'memory.memsw.limit_in_bytes'), bytes).catch(() => undefined);
    await writeFile(join(cgroup.pidsDir, 'pids.max'), String(limits.maxProcesses));
    return cgroup;
  } catch {
    await removeCgroup(cgroup);
    return null;
  }
}

/** The files a process writes its pid to in order to join the cgroup. */
export function cgroupProcsFiles(cgroup: Cgroup): string[] {
  return [join(cgroup.memoryDir, 'cgroup.procs'), join(cgroup.pidsDir, 'cgroup.procs')];
}

async function members(dir: string): Promise<number[]> {
  try {
    const text = await readFile(join(dir, 'cgroup.procs'), 'utf8');
    return text.split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

async function killMembers(dir: string): Promise<void> {
  for (let round = 0; round < 400; round++) {
    const pids = await members(dir);
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
export async function cgroupRefusal(cgroup: Cgroup): Promise<'processes' | 'memory' | undefined> {
  const count = async (file: string, key: string) => {
    const text = await readFile(file, 'utf8').catch(() => '');
    return Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  };
  if ((await count(join(cgroup.pidsDir, 'pids.events'), 'max')) > 0) return 'processes';
  if ((await count(join(cgroup.memoryDir, 'memory.oom_control'), 'oom_kill')) > 0) return 'memory';
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
  for (const dir of [cgroup.memoryDir, cgroup.pidsDir]) {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        await rmdir(dir);
        break;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') break;
        await sleep(10);
      }
    }
  }
}
