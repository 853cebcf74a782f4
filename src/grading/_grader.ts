import { resolve } from 'node:path';
import { prepareEnvironment, type PreparedEnvironment, type Sandbox } from '../sandbox/index.ts';
import { environmentSpec, type Instance } from '../tasks/index.ts';
import { gradeInstance, patchHash, type Grade } from './_grade.ts';
import { Slots } from './_slots.ts';

/** Where grades are kept by (instance, content hash, patch hash): the store implements it. */
export type GradeCache = {
  findGrade(instanceId: string, instanceHash: string, patchHash: string): { grade: unknown } | undefined;
  saveGrade(instanceId: string, instanceHash: string, patchHash: string, sandbox: string, grade: { outcome: string; grade: unknown }): void;
};

export const DEFAULT_CACHE_DIR = 'results/cache';

export function resolveCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.BENCH_CACHE_DIR ?? DEFAULT_CACHE_DIR);
}

/**
 * Grades patches: environments prepared once per repository + install, and grades reused from
 * the store when the same patch was graded on the same instance content (unless regrade).
 *
 * With `jobs`, at most that many gradings run their tests at once, and up to twice as many more
 * prepare theirs meanwhile (workspace, patch applied, test files put back: nothing of the patch
 * runs), then wait at the gate: the next gradings' setups overlap the tests running, also when a
 * setup takes longer than the tests before it. Callers let `inFlight` gradings be in flight.
 */
export class Grader {
  readonly sandbox: Sandbox;
  private readonly cacheDir: string;
  private readonly store: GradeCache | undefined;
  private readonly regrade: boolean;
  /** Gradings whose tests may run at once; undefined: no limit of the grader's own. */
  readonly jobs: number | undefined;
  /** How many gradings a caller should let be in flight to keep the test slots busy (with `jobs`). */
  readonly inFlight: number | undefined;
  private readonly setupSlots: Slots | undefined;
  private readonly testSlots: Slots | undefined;

  constructor(options: { sandbox: Sandbox; cacheDir: string; store?: GradeCache; regrade?: boolean; jobs?: number }) {
    this.sandbox = options.sandbox;
    this.cacheDir = options.cacheDir;
    this.store = options.store;
    this.regrade = options.regrade ?? false;
    this.jobs = options.jobs;
    this.inFlight = options.jobs === undefined ? undefined : options.jobs * 3;
    if (options.jobs !== undefined) {
      this.setupSlots = new Slots(options.jobs * 2);
      this.testSlots = new Slots(options.jobs);
    }
  }

  /** The instance's environment as the sandbox prepares it: a host folder, or an image (with the repository copied in when it lacks one). */
  async environment(instance: Instance): Promise<PreparedEnvironment> {
    return this.sandbox.prepare({
      instanceId: instance.instance_id,
      image: instance.image,
      swebench: instance.source.kind === 'dataset',
      host: async () => prepareEnvironment(await environmentSpec(instance, this.cacheDir), { cacheDir: this.cacheDir }),
    });
  }

  async grade(instance: Instance, patch: string | null, options: { runWithoutPatch?: boolean } = {}): Promise<Grade & { reused: boolean }> {
    const hash = patchHash(patch);
    if (hash && this.store && !this.regrade && !options.runWithoutPatch) {
      const stored = this.store.findGrade(instance.instance_id, gradedContent(instance), hash);
      if (stored) return { ...(stored.grade as Grade), reused: true };
    }
    let grade: Grade;
    const releaseSetup = await this.setupSlots?.acquire();
    const testSlot = this.testSlots && (async () => {
      const releaseTests = await this.testSlots!.acquire();
      releaseSetup?.();
      return releaseTests;
    });
    try {
      grade = await gradeInstance(instance, patch, {
        sandbox: this.sandbox, environment: await this.environment(instance), runWithoutPatch: options.runWithoutPatch, cacheDir: this.cacheDir, ...(testSlot ? { testSlot } : {}),
      });
    } catch (error) {
      grade = {
        instanceId: instance.instance_id, outcome: 'infra_error', resolved: false, resolution: 'NO', patchHash: hash, revertedFiles: [], tests: {}, flags: [],
        error: (error as Error).message, report: {},
      };
    } finally {
      releaseSetup?.();
    }
    // Infra errors are not facts about the patch, so they are never cached.
    if (hash && this.store && grade.outcome !== 'infra_error' && !options.runWithoutPatch) {
      this.store.saveGrade(instance.instance_id, gradedContent(instance), hash, this.sandbox.kind, { outcome: grade.outcome, grade });
    }
    return { ...grade, reused: false };
  }
}

/**
 * Raised whenever grading changes what it believes (here: the report channel, canaries and the
 * `tampered` outcome), so grades stored by an older grader are graded again rather than reused.
 */
const GRADER_REVISION = 'grader-2';

function gradedContent(instance: Instance): string {
  return `${instance.contentHash}:${GRADER_REVISION}`;
}
