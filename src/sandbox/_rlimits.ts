import { readdir, stat } from 'node:fs/promises';
import type { Limits } from './_types.ts';

const MIN_DATA_LIMIT_MB = 1024;

/**
 * `ulimit` arguments for one command. The file size limit always applies; memory (RLIMIT_DATA,
 * per process) and process count only when no cgroup enforces them for the whole tree.
 */
export async function ulimitArguments(limits: Limits, hasCgroup: boolean): Promise<string[]> {
  const args = ['-c', '0', '-f', String(limits.maxFileMb * 1024)];
  if (hasCgroup) return args;
  // RLIMIT_DATA counts V8's up-front reservations: under about 600 MB node cannot even start.
  args.push('-d', String(Math.max(limits.memoryMb, MIN_DATA_LIMIT_MB) * 1024));
  const uid = process.getuid?.();
  // RLIMIT_NPROC never binds uid 0, and elsewhere counts every process of the user, not just ours.
  if (uid !== undefined && uid !== 0) args.push('-u', String((await processesOwnedBy(uid)) + limits.maxProcesses));
  return args;
}

async function processesOwnedBy(uid: number): Promise<number> {
  const entries = await readdir('/proc').catch(() => [] as string[]);
  const owners = await Promise.all(
    entries.filter((name) => /^\d+$/.test(name)).map((name) => stat(`/proc/${name}`).then((found) => found.uid, () => -1)),
  );
  return owners.filter((owner) => owner === uid).length;
}
