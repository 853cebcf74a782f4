import { attemptKey } from '../store/index.ts';
import type { Instance } from '../tasks/index.ts';
import type { Arm } from './_arms.ts';

/**
 * What a scheduler hands out: plain data naming one attempt. The config is named, never held:
 * whoever executes the job resolves it (and its key) from its own config.toml and environment.
 */
export type AttemptJob = { runId: string; instanceId: string; configName: string; repeat: number };

export function jobKey(job: AttemptJob): string {
  return attemptKey(job.instanceId, job.configName, job.repeat);
}

/** Every attempt of the run the store does not hold yet, repeat by repeat. */
export function missingJobs(runId: string, instances: Instance[], arms: Arm[], runs: number, done: Set<string>): AttemptJob[] {
  const jobs: AttemptJob[] = [];
  for (let repeat = 0; repeat < runs; repeat++) {
    for (const instance of instances) {
      for (const arm of arms) {
        const job = { runId, instanceId: instance.instance_id, configName: arm.name, repeat };
        if (!done.has(jobKey(job))) jobs.push(job);
      }
    }
  }
  return jobs;
}
