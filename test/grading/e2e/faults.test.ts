import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Grader } from '../../../src/grading/index.ts';
import { bwrapAvailable, SANDBOXES } from '../../../src/sandbox/index.ts';
import { Store } from '../../../src/store/index.ts';
import { loadSuite } from '../../../src/tasks/index.ts';

const hasBwrap = await bwrapAvailable();
const suite = loadSuite();
// The setup script is the same for every runner: one instance shows it.
const instances = [suite.instances.find((i) => i.log_parser === 'unittest')!];

let dir: string;
let store: Store;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bench-faults-'));
  store = Store.open(join(dir, 'bench.db'));
});

afterAll(async () => {
  store.close();
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!hasBwrap)('a grading the machine could not prepare', () => {
  it('is an infra_error when the sandbox refuses the setup a process, and is never cached', async () => {
    const cacheDir = join(dir, 'cache');
    // Three processes: the sandbox starts, but the setup's commands cannot all be forked.
    const starved = new Grader({ sandbox: SANDBOXES.bwrap.create({ limits: { maxProcesses: 3 } }), cacheDir, store });
    for (const instance of instances) {
      const grade = await starved.grade(instance, instance.patch);
      expect(grade.outcome, `${instance.instance_id}: ${grade.error}`).toBe('infra_error');
      // Told by the cgroup where there is one (ran out of processes), else by the setup's bash (could not fork).
      expect(grade.error).toMatch(/ran out of processes|could not fork a process/);
    }
    // The same patches in a sandbox with room: graded afresh (nothing was kept), and resolved.
    const healthy = new Grader({ sandbox: SANDBOXES.bwrap.create({}), cacheDir, store });
    for (const instance of instances) {
      const grade = await healthy.grade(instance, instance.patch);
      expect(grade.reused).toBe(false);
      expect(grade.outcome).toBe('resolved');
      expect((await healthy.grade(instance, instance.patch)).reused).toBe(true);
    }
  }, 120_000);
});

describe.skipIf(!hasBwrap)('a grader with test slots', () => {
  it('runs one grading\'s tests at a time with jobs = 1 while the others prepare, and grades them all', async () => {
    const base = suite.instances.filter((i) => i.log_parser === 'node-junit').slice(0, 3);
    // Each test command notes when it started and ended, around the instance's own tests.
    const timed = base.map((i) => ({ ...i, test_cmd: `echo "window-start $(date +%s%N)"; ${i.test_cmd}; echo "window-end $(date +%s%N)"` }));
    const grader = new Grader({ sandbox: SANDBOXES.bwrap.create({}), cacheDir: join(dir, 'cache'), jobs: 1 });
    const grades = await Promise.all(timed.map((i) => grader.grade(i, i.patch)));
    const windows = grades.map((g) => {
      const at = (name: string) => Number(new RegExp(`${name} (\\d+)`).exec(g.log ?? '')?.[1]);
      return [at('window-start'), at('window-end')] as const;
    });
    for (const [start, end] of windows) expect(end).toBeGreaterThan(start);
    const sorted = [...windows].sort((a, b) => a[0] - b[0]);
    for (let k = 1; k < sorted.length; k++) expect(sorted[k]![0]).toBeGreaterThanOrEqual(sorted[k - 1]![1]);
    expect(grades.map((g) => g.outcome)).toEqual(['resolved', 'resolved', 'resolved']);
  }, 120_000);
});
