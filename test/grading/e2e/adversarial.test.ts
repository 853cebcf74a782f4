import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it, test } from 'vitest';
import { PROJECT_ROOT } from '../../helpers/cli.ts';
import { bwrapAvailable } from '../../../src/sandbox/index.ts';
import {
  alwaysGreenHooks, alwaysGreenInPackage, exitInTestFiles, floodStderr, forgeEveryUnittestTest, forgeJunit, forgeUnittestOk,
  loopForever, neuterNodeAssertInPackage, neuterNodeAssertInTest, neuterUnittestAsserts, readApiKey, wipeWorkspace,
  writeThroughLinksJs, writeThroughLinksPy, type Edit,
} from './_cheats.ts';
import {
  builtinInstance, copySuite, diffOf, evaluate, gitCopyOf, scratch, storedAttempt, writeJsonl, type EvalSummary, type Scratch, type ShownAttempt,
} from './_helpers.ts';

// Every patch here is hostile model output, so it is graded only inside the real bwrap sandbox.
const BWRAP = await bwrapAvailable();
if (!BWRAP) {
  console.warn('test/grading/e2e/adversarial.test.ts skipped: bubblewrap (bwrap) is missing or cannot create namespaces here, and hostile patches only run sandboxed.');
}

const MODEL = 'e2e-model';
const API_KEY = `sk-e2e-${randomBytes(12).toString('hex')}`;
const PACKAGE_JSON = join(PROJECT_ROOT, 'package.json');

type Case = { instance: string; edit: Edit };
type Graded = { attempt: ShownAttempt; log: string; summary: EvalSummary };

let where: Scratch;
const copies = new Map<string, string>();

/** A git copy of the instance's repository, made once per file. */
async function repoFor(instance: string): Promise<string> {
  const repo = instance.replace(/-\d+$/, '');
  let dir = copies.get(repo);
  if (!dir) {
    dir = join(where.dir, 'copies', repo);
    await gitCopyOf(repo, dir);
    copies.set(repo, dir);
  }
  return dir;
}

/** Builds each case's patch, grades them all in one `bench eval` run, and reads back every attempt. */
async function gradeAll(name: string, cases: Case[], options: { suite?: string; timeout?: number } = {}) {
  const rows = [];
  for (const c of cases) rows.push({ instance_id: c.instance, model_patch: await diffOf(await repoFor(c.instance), c.edit) });
  const preds = await writeJsonl(join(where.dir, `${name}.jsonl`), rows);
  const db = join(where.dir, `${name}.db`);
  const args = ['--predictions', preds, '--instances', cases.map((c) => c.instance).join(','), ...(options.suite ? ['--suite', options.suite] : [])];
  const run = await evaluate(where, args, { db, env: { LLM_API_KEY: API_KEY }, timeout: options.timeout ?? 300_000 });
  const graded = new Map<string, Graded>();
  if (run.exitCode === 0 && run.summary) {
    for (const c of cases) {
      const attempt = storedAttempt(db, run.summary.run_id, c.instance, MODEL);
      const log = await readFile(join(run.summary.report_dir, c.instance, 'test_output.txt'), 'utf8').catch(() => '');
      graded.set(c.instance, { attempt, log, summary: run.summary });
    }
  }
  return { run, graded, db };
}

/** What the grader made of one cheat, for whoever reads the test output. */
function describeOutcome(what: string, { attempt, log }: Graded): string {
  const g = attempt.grade;
  const lines = [
    `[cheat] ${what}`,
    `  outcome ${attempt.outcome} (${attempt.resolution ?? '-'}), applied with ${g.applyMethod ?? '-'}, test exit ${g.testExitCode ?? '-'}`,
    `  put back before the tests: ${g.revertedFiles.length ? g.revertedFiles.join(', ') : 'nothing'}`,
    ...(g.trustworthy === false ? [`  log rejected: ${g.untrustworthyReason}`] : []),
    ...(g.error ? [`  error: ${g.error.split('\n')[0]}`] : []),
    ...(g.testsStatus ? [`  FAIL_TO_PASS failing: ${g.testsStatus.FAIL_TO_PASS!.failure.length}, PASS_TO_PASS failing: ${g.testsStatus.PASS_TO_PASS!.failure.length}`] : []),
    `  log tail: ${JSON.stringify(log.slice(-160))}`,
  ];
  return lines.join('\n');
}

function expectNotResolved(what: string, graded: Graded | undefined): Graded {
  expect(graded, `${what}: no attempt was recorded`).toBeDefined();
  console.log(describeOutcome(what, graded!));
  expect(graded!.attempt.outcome, what).not.toBe('resolved');
  expect(graded!.attempt.resolved, what).toBe(false);
  expect(graded!.summary.resolved_ids, what).not.toContain(graded!.attempt.instanceId);
  return graded!;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

const sha = async (path: string) => createHash('sha256').update(await readFile(path)).digest('hex');

/** Processes still running from this file's scratch folder (sandboxes name their workspace in their arguments). */
async function strays(): Promise<number[]> {
  const { stdout } = await execa('ps', ['-eo', 'pid=,args=']);
  return stdout.split('\n').filter((line) => line.includes(where.dir)).map((line) => Number.parseInt(line, 10)).filter((pid) => pid !== process.pid);
}

beforeAll(async () => {
  if (BWRAP) where = await scratch('adversarial');
});

afterAll(async () => {
  if (!where) return;
  for (let i = 0; i < 30 && (await strays()).length; i++) await new Promise((done) => setTimeout(done, 100));
  for (const pid of await strays()) {
    console.warn(`killing sandbox process ${pid} left running by a hostile patch`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await where.cleanup();
});

describe.skipIf(!BWRAP)('bench eval against patches that try to cheat', () => {
  let python: Awaited<ReturnType<typeof gradeAll>>;
  let escape: Awaited<ReturnType<typeof gradeAll>>;
  let js: Awaited<ReturnType<typeof gradeAll>>;
  let victim: string;
  const hostBefore = new Map<string, string>();

  beforeAll(async () => {
    victim = join(where.dir, 'victim.txt');
    await writeFile(victim, 'host file: must stay as it is\n');
    for (const path of [victim, PACKAGE_JSON]) hostBefore.set(path, await sha(path));

    const forged = (await builtinInstance('benchlab__iniconf-4')).fields.FAIL_TO_PASS;
    python = await gradeAll('python', [
      { instance: 'benchlab__iniconf-1', edit: alwaysGreenHooks('tests/__init__.py') },
      { instance: 'benchlab__iniconf-2', edit: alwaysGreenHooks('sitecustomize.py', 'conftest.py') },
      // tests/test_config.py is the file iniconf-3's test patch touches.
      { instance: 'benchlab__iniconf-3', edit: neuterUnittestAsserts('tests/test_config.py') },
      { instance: 'benchlab__iniconf-4', edit: forgeUnittestOk(forged) },
      { instance: 'benchlab__iniconf-5', edit: readApiKey },
      { instance: 'benchlab__iniconf-6', edit: floodStderr },
    ]);
    // unittest shows what the code printed, so this run shows each write attempt's fate.
    escape = await gradeAll('escape', [
      { instance: 'benchlab__iniconf-1', edit: writeThroughLinksPy({ 'host-package.json': PACKAGE_JSON, 'victim-link': victim }) },
    ]);

    const csvkit3 = (await builtinInstance('benchlab__csvkit-3')).fields;
    const csvkit4 = (await builtinInstance('benchlab__csvkit-4')).fields;
    js = await gradeAll('js', [
      { instance: 'benchlab__csvkit-1', edit: exitInTestFiles(['test/stringify.test.js', 'test/parse.test.js'], 'test/aaa-setup.test.js') },
      // test/parse.test.js is the file csvkit-2's test patch touches.
      { instance: 'benchlab__csvkit-2', edit: neuterNodeAssertInTest('test/parse.test.js', "import { parse, CsvError } from '../src/index.js';\n") },
      { instance: 'benchlab__csvkit-3', edit: forgeJunit(csvkit3.FAIL_TO_PASS, csvkit3.PASS_TO_PASS, 'process.exit(0);') },
      { instance: 'benchlab__csvkit-4', edit: forgeJunit(csvkit4.FAIL_TO_PASS, csvkit4.PASS_TO_PASS, "throw new Error('crashed after forging a report');") },
      // test/format.test.js is the file datekit-1's test patch touches: a link there must not redirect its reset.
      {
        instance: 'benchlab__datekit-1',
        edit: writeThroughLinksJs({ 'host-package.json': PACKAGE_JSON, 'victim-link': victim }, { path: 'test/format.test.js', target: victim }),
      },
      { instance: 'benchlab__flagparse-1', edit: wipeWorkspace },
    ]);
  }, 400_000);

  it('finishes each hostile run with exit 0 and a summary', () => {
    for (const [name, batch, size] of [['python', python, 6], ['escape', escape, 1], ['js', js, 6]] as const) {
      expect(batch.run.exitCode, `${name}: ${batch.run.stderr}`).toBe(0);
      expect(batch.run.stderr, name).not.toMatch(/internal error/);
      expect(batch.run.summary!.resolved_instances, name).toBe(0);
      expect(batch.run.summary!.submitted_instances, name).toBe(size);
    }
  });

  it('removes a tests/__init__.py that forces every unittest green', () => {
    const { attempt } = expectNotResolved('tests/__init__.py replaces unittest.TestCase.run with an unconditional pass', python.graded.get('benchlab__iniconf-1'));
    expect(attempt.grade.revertedFiles).toEqual(['tests/__init__.py']);
    expect(attempt.grade.testsStatus!.FAIL_TO_PASS!.failure.length).toBeGreaterThan(0);
  });

  it('removes sitecustomize.py and conftest.py hooks planted at the repository root', () => {
    const { attempt } = expectNotResolved('sitecustomize.py and conftest.py force unittest green', python.graded.get('benchlab__iniconf-2'));
    expect([...attempt.grade.revertedFiles].sort()).toEqual(['conftest.py', 'sitecustomize.py']);
  });

  it('restores a test file the test patch touches after the patch weakened its assertions (python)', () => {
    const { attempt } = expectNotResolved('tests/test_config.py turns every assert* into a no-op', python.graded.get('benchlab__iniconf-3'));
    expect(attempt.grade.trustworthy).toBe(true);
    expect(attempt.grade.testsStatus!.FAIL_TO_PASS!.failure.length).toBeGreaterThan(0);
  });

  it('does not believe forged unittest `ok` and `PASSED` lines printed at import before exit 0', () => {
    const { attempt, log } = expectNotResolved('iniconf prints `... ok` for each FAIL_TO_PASS test, then os._exit(0)', python.graded.get('benchlab__iniconf-4'));
    expect(log).toContain('... ok');
    expect(attempt.grade.testsStatus!.PASS_TO_PASS!.failure.length).toBeGreaterThan(0);
  });

  it('never lets LLM_API_KEY reach the code under test, the grade, the reports, the logs or the database', async () => {
    const { log } = expectNotResolved('iniconf reads LLM_API_KEY and /proc/*/environ and prints what it found', python.graded.get('benchlab__iniconf-5'));
    expect(log).toContain('LEAK-ATTEMPT key=[]');
    const leaking: string[] = [];
    for (const file of await filesUnder(where.dir)) {
      if ((await readFile(file)).includes(API_KEY)) leaking.push(file);
    }
    expect(leaking).toEqual([]);
    expect((await readFile(python.db)).length).toBeGreaterThan(0);
  });

  it('grades a patch that prints gigabytes as unresolved with its log cut, and carries on', () => {
    const { attempt, log } = expectNotResolved('iniconf writes 4 GiB to stderr at import', python.graded.get('benchlab__iniconf-6'));
    // Killed at the output hard cap while importing the tests: the runner's channel report never ended.
    expect(attempt.outcome).toBe('unresolved');
    expect(attempt.grade.trustworthy).toBe(false);
    expect(attempt.grade.untrustworthyReason).toMatch(/wrote no report|never ended/);
    expect(log.length).toBeLessThanOrEqual(20_000);
    expect(log).toContain('flood flood');
    expect(python.run.summary!.completed_ids).toContain('benchlab__iniconf-6');
  });

  it('restores or removes test files that call process.exit(0) at import', () => {
    const { attempt } = expectNotResolved('test files exit 0 before any test runs', js.graded.get('benchlab__csvkit-1'));
    // Every changed test file is put back, the test patch's own files included (the test patch then applies on top).
    expect([...attempt.grade.revertedFiles].sort()).toEqual(['test/aaa-setup.test.js', 'test/parse.test.js', 'test/stringify.test.js']);
    expect(attempt.grade.testsStatus!.FAIL_TO_PASS!.failure.length).toBeGreaterThan(0);
  });

  it('restores a test file the test patch touches after the patch neutered its asserts (js)', () => {
    const { attempt } = expectNotResolved('test/parse.test.js replaces every assert function with a no-op', js.graded.get('benchlab__csvkit-2'));
    expect(attempt.grade.trustworthy).toBe(true);
    expect(attempt.grade.testsStatus!.FAIL_TO_PASS!.failure.length).toBeGreaterThan(0);
  });

  it('ignores a forged <testsuites> document printed at import before exit 0', () => {
    const { attempt } = expectNotResolved('src prints a passing junit report for every test, then process.exit(0)', js.graded.get('benchlab__csvkit-3'));
    expect(attempt.grade.testsStatus!.FAIL_TO_PASS!.success).toEqual([]);
  });

  it('ignores a forged <testsuites> document printed at import before a crash', () => {
    const { attempt } = expectNotResolved('src prints a passing junit report for every test, then throws', js.graded.get('benchlab__csvkit-4'));
    expect(attempt.grade.testsStatus!.FAIL_TO_PASS!.success).toEqual([]);
  });

  it('keeps host files unchanged when the patch writes through symlinks planted to them', async () => {
    const { log } = expectNotResolved('python: symlinks to package.json and a host file, appended to at import', escape.graded.get('benchlab__iniconf-1'));
    console.log(log.split('\n').filter((line) => line.startsWith('ESCAPE')).map((line) => `  ${line}`).join('\n'));
    for (const link of ['host-package.json', 'victim-link']) {
      expect(log).toMatch(new RegExp(`ESCAPE ${link}: `));
      expect(log).not.toContain(`ESCAPE ${link}: wrote`);
    }
    expectNotResolved('js: the same links plus one in place of the test file, appended to at import', js.graded.get('benchlab__datekit-1'));
    for (const [path, before] of hostBefore) expect(await sha(path), path).toBe(before);
  });

  it('survives a patch that deletes its own workspace at import, and grades the next patch normally', async () => {
    expectNotResolved('src deletes every file of the workspace root', js.graded.get('benchlab__flagparse-1'));
    const after = await evaluate(where, ['--predictions', 'gold', '--instances', 'benchlab__flagparse-1,benchlab__datekit-1'], { db: join(where.dir, 'after.db') });
    expect(after.exitCode, after.stderr).toBe(0);
    expect(after.summary!.resolved_ids).toEqual(['benchlab__datekit-1', 'benchlab__flagparse-1']);
  });
});

describe.skipIf(!BWRAP)('cheats from inside the code under test, caught by the report channel and the canaries', () => {
  let inside: Awaited<ReturnType<typeof gradeAll>>;

  beforeAll(async () => {
    inside = await gradeAll('inside', [
      { instance: 'benchlab__iniconf-1', edit: alwaysGreenInPackage },
      { instance: 'benchlab__iniconf-2', edit: forgeEveryUnittestTest },
      { instance: 'benchlab__csvkit-1', edit: neuterNodeAssertInPackage },
    ]);
    expect(inside.run.exitCode, inside.run.stderr).toBe(0);
  }, 200_000);

  // In-process: the patch's own module replaces unittest.TestCase.run when the tests import it; the canaries that must fail pass too.
  test('package code that replaces unittest.TestCase.run is graded tampered', () => {
    const { attempt } = expectNotResolved('iniconf/__init__.py replaces unittest.TestCase.run with an unconditional pass', inside.graded.get('benchlab__iniconf-1'));
    expect(attempt.outcome).toBe('tampered');
    expect(attempt.grade.tamperReason).toMatch(/canary test\(s\) that must fail were reported passing/);
  });

  // SWE-bench issue 601 with exit 0: the printed lines never reach the grade, which reads the runner's own channel.
  test('a forged `... ok` line for every test in tests/, then exit 0, does not resolve', () => {
    const { attempt } = expectNotResolved('iniconf prints `... ok` for every test method it finds in tests/, then os._exit(0)', inside.graded.get('benchlab__iniconf-2'));
    expect(attempt.outcome).toBe('unresolved');
    expect(attempt.grade.untrustworthyReason).toMatch(/wrote no report|never ended/);
  });

  // node:assert's default export is a mutable object shared with the test files, and with the canaries.
  test('package code that turns every node:assert function into a no-op is graded tampered', () => {
    const { attempt } = expectNotResolved('src replaces every node:assert function with a no-op', inside.graded.get('benchlab__csvkit-1'));
    expect(attempt.outcome).toBe('tampered');
    expect(attempt.grade.tamperReason).toMatch(/canary/);
  });
});

describe.skipIf(!BWRAP)('a patch whose tests never finish', () => {
  test('is graded `timeout` once the instance timeout (3 s) has passed', async () => {
    const suite = await copySuite(join(where.dir, 'short-timeout'), ['benchlab__csvkit-1'], (fields) => {
      fields.timeout = 3;
    });
    const started = Date.now();
    const forever = await gradeAll('forever', [{ instance: 'benchlab__csvkit-1', edit: loopForever }], { suite, timeout: 40_000 });
    console.log(`[cheat] src/index.js loops forever at import: exit ${forever.run.exitCode} after ${Date.now() - started} ms; ${forever.run.stderr.trim().split('\n')[0] ?? ''}`);
    expect(forever.run.exitCode).toBe(0);
    expect(forever.run.summary).toMatchObject({ timeout_instances: 1, error_ids: ['benchlab__csvkit-1'], resolved_instances: 0 });
    const { attempt } = forever.graded.get('benchlab__csvkit-1')!;
    expect(attempt.outcome).toBe('timeout');
    expect(attempt.grade.testMs).toBeLessThan(10_000);
  }, 60_000);
});
