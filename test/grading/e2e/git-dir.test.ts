import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Grader } from '../../../src/grading/index.ts';
import { bwrapAvailable, SANDBOXES } from '../../../src/sandbox/index.ts';
import { loadSuite } from '../../../src/tasks/index.ts';

const hasBwrap = await bwrapAvailable();
const suite = loadSuite();

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bench-git-dir-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe.skipIf(!hasBwrap)("the grading's own git directory", () => {
  it("leaves the workspace's .git to the tests, whole, after an apply chain that reset and cleaned the tree", async () => {
    const instance = suite.instances.find((i) => i.instance_id === 'benchlab__csvkit-1')!;
    // Context the workspace lacks: the three `git apply` tries fail (each followed by reset and clean), `patch --fuzz` takes it.
    const drifted = instance.patch.replace('\n }\n \n function needsQuoting', '\n }  // end of toText\n \n function needsQuoting');
    expect(drifted).not.toBe(instance.patch);
    // The tests' own git sees the base commit, the patch's edits and the test patch's, and nothing of the harness's.
    const probed = { ...instance, test_cmd: `echo "head $(git rev-parse HEAD)"; git status --porcelain | sed 's/^/status /'; ${instance.test_cmd}` };
    const grader = new Grader({ sandbox: SANDBOXES.bwrap.create({}), cacheDir: join(dir, 'cache') });
    const grade = await grader.grade(probed, drifted);
    expect(grade.applyMethod).toBe('patch --batch --forward --fuzz=5 -p1');
    expect(grade.outcome, grade.error).toBe('resolved');
    const environment = await grader.environment(probed);
    expect(grade.log).toContain(`head ${environment.baseCommit}`);
    const status = [...(grade.log ?? '').matchAll(/^status (.*)$/gm)].map((m) => m[1]!.trim()).sort();
    // `patch` keeps the file it fuzzed into as .orig, as in SWE-bench's harness.
    expect(status).toEqual(['?? src/stringify.js.orig', 'M src/stringify.js', 'M test/stringify.test.js']);
  }, 120_000);

  it("refuses a patch that writes into the workspace's .git (git apply refuses the path, `patch` would take it)", async () => {
    const instance = suite.instances.find((i) => i.instance_id === 'benchlab__csvkit-1')!;
    // The fix, plus a config the tests' own git would read: an fsmonitor command runs with every `git status`.
    const planted = `${instance.patch}diff --git a/.git/config b/.git/config\n--- a/.git/config\n+++ b/.git/config\n@@ -0,0 +1,2 @@\n+[core]\n+\tfsmonitor = sh -c 'echo planted'\n`;
    const grader = new Grader({ sandbox: SANDBOXES.bwrap.create({}), cacheDir: join(dir, 'cache') });
    const grade = await grader.grade(instance, planted);
    expect(grade.outcome, grade.error).toBe('patch_failed');
    expect(grade.error).toMatch(/writes a \.git/);
    // The fix alone still resolves.
    expect((await grader.grade(instance, instance.patch)).outcome).toBe('resolved');
  }, 120_000);

  it("refuses a patch that writes into the workspace's .git through a link it creates (git refuses the path beyond it, `patch` follows the link)", async () => {
    const instance = suite.instances.find((i) => i.instance_id === 'benchlab__csvkit-1')!;
    const planted = [
      instance.patch,
      'diff --git a/evil b/evil\nnew file mode 120000\n--- /dev/null\n+++ b/evil\n@@ -0,0 +1 @@\n+.git\n\\ No newline at end of file\n',
      // A file the workspace's .git lacks, so `patch`, the chain's last try, writes it through the link.
      'diff --git a/evil/planted b/evil/planted\nnew file mode 100644\n--- /dev/null\n+++ b/evil/planted\n@@ -0,0 +1 @@\n+planted\n',
    ].join('');
    const grader = new Grader({ sandbox: SANDBOXES.bwrap.create({}), cacheDir: join(dir, 'cache') });
    const grade = await grader.grade(instance, planted);
    expect(grade.outcome, grade.error).toBe('patch_failed');
    expect(grade.error).toMatch(/writes a \.git/);
  }, 120_000);
});
