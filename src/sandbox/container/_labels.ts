import { hostname } from 'node:os';

/** Every container bench starts carries this label, so `bench sandbox gc` can find leftovers. */
export const LABEL = 'bench.sandbox';
export const OWNER_LABEL = 'bench.owner';
export const RUN_LABEL = 'bench.run';
export const ENVIRONMENT_LABEL = 'bench.environment';

/** This process, as written on its containers: a leftover whose owner is gone is garbage. */
export function owner(): string {
  return `${process.pid}@${hostname()}`;
}

export function ownerLabels(): string[] {
  return ['--label', `${LABEL}=1`, '--label', `${OWNER_LABEL}=${owner()}`];
}

/** Whether the process that started a container is still running (on this host; another host's are assumed alive). */
export function ownerAlive(value: string | undefined): boolean {
  if (!value) return false;
  const [pid, host] = value.split('@');
  if (host !== hostname()) return true;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
