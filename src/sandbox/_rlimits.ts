import { readdir, stat } from 'node:fs/promises';
import type { Rlimit } from './_spawner.ts';
import type { Limits } from './_types.ts';

const MIN_DATA_LIMIT_MB = 1024;
const MIB = 1024 * 1024;

/**
 * The resource limits of one command. The file size limit always applies; memory (RLIMIT_DATA,
 * per process) and process count only when no cgroup enforces them for the whole tree.
 */
export async function commandRlimits(limits: Limits, hasCgroup: boolean): Promise<Rlimit[]> {
  const rlimits: Rlimit[] = [{ resource: 'core', value: 0 }, { resource: 'fsize', value: limits.maxFileMb * MIB }];
  if (hasCgroup) return rlimits;
  // RLIMIT_DATA counts V8's up-front reservations: under about 600 MB node cannot even start.
  rlimits.push({ resource: 'data', value: Math.max(limits.memoryMb, MIN_DATA_LIMIT_MB) * MIB });
  const uid = process.getuid?.();
  // RLIMIT_NPROC never binds uid 0, and elsewhere counts every process of the user, not just ours.
  if (uid !== undefined && uid !== 0) rlimits.push({ resource: 'nproc', value: (await processesOwnedBy(uid)) + limits.maxProcesses });
  return rlimits;
}

async function processesOwnedBy(uid: number): Promise<number> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const owners = await Promise.all(
    entries.filter((name) => /^\d+$/.test(name)).map((name) => stat(`/proc/${name}`).then((found) => found.uid, () => -1)),
  );
  return owners.filter((owner) => owner === uid).length;
}
