import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Instance } from '../tasks/index.ts';
import { hostGitGuardsPaths, sharedDirsOf, type ExecResult, type PreparedEnvironment, type Sandbox, type Workspace } from '../sandbox/index.ts';
import { judgeCanaries, makeCanaries } from './_canary.ts';
import { channelFor, type Channel } from './_channel.ts';
import { decide, type Verdict } from './_decide.ts';
import { patchFlags, type PatchFlag } from './_flags.ts';
import { APPLY_CHAIN, gradingPayloads, gradingScript, PATCH_FAILED, runnerModuleNames, runnerModulesReady, TEST_PATCH_FAILED } from './_grade-script.ts';
import type { TestMatch } from './_match.ts';
import { parseTestLog } from './_parsers.ts';
import type { ParsedLog, TestNames, TestStatus } from './_parse-types.ts';
import { patchPaths } from './_patch-files.ts';

/** `tampered`: the report cannot be the test framework's own word (see README, Grading); never resolved, never retried. */
export type GradeOutcome = 'resolved' | 'unresolved' | 'patch_failed' | 'timeout' | 'empty_patch' | 'infra_error' | 'tampered';

/**
 * bash's own message when a fork is refused (process or memory limit). Lines the setup quotes from
 * git or patch, which a patch can shape, start with `| ` and never match.
 */
const SETUP_FORK_REFUSED = /^(?!\| )[^\n]*\bfork: (?:retry: )?(?:Resource temporarily unavailable|Cannot allocate memory)/m;

export type Grade = {
  instanceId: string;
  outcome: GradeOutcome;
  resolved: boolean;
  resolution: 'FULL' | 'PARTIAL' | 'NO';
  patchHash: string | null;
  /** Which step of the apply chain took the patch. */
  applyMethod?: string;
  /** Test-infrastructure files the model patch changed, put back before the tests ran. */
  revertedFiles: string[];
  tests: Record<string, string>;
  testsStatus?: Verdict['testsStatus'];
  /** Dataset test name -> the parsed tests it matched and by which rule. */
  matches?: Record<string, TestMatch>;
  /** Parsed test id -> the runner's and other harnesses' names for it. */
  names?: Record<string, TestNames>;
  trustworthy?: boolean;
  untrustworthyReason?: string;
  /** Why the grade is `tampered`. */
  tamperReason?: string;
  /** Where the statuses were read: the runner's own report channel, or the shared output log. */
  reportSource?: 'channel' | 'log';
  /** What this grading's canary tests were reported as (they are not in `tests`). */
  canaries?: Record<string, TestStatus | 'MISSING'>;
  /** Facts about the patch a reviewer wants to see (see _flags.ts). */
  flags: PatchFlag[];
  testExitCode?: number | null;
  testMs?: number;
  error?: string;
  /** The tail of the test log, enough to see why. */
  log?: string;
  /** SWE-bench's per-instance report.json content. */
  report: Record<string, unknown>;
};

export function patchHash(patch: string | null | undefined): string | null {
  return patch && patch.trim() ? createHash('sha256').update(patch).digest('hex') : null;
}

const SETUP_TIMEOUT_MS = 120_000;
const LOG_TAIL = 20_000;

/**
 * Grades one patch with SWE-bench semantics in a fresh workspace: apply chain with resets, test
 * files reset and test-created files removed, test patch applied, tests run, statuses parsed,
 * exit code cross-checked. Never throws: sandbox failures come back as `infra_error`.
 * With `runWithoutPatch`, the tests run on the base plus the test patch (for validating a suite).
 */
export async function gradeInstance(
  instance: Instance,
  patch: string | null | undefined,
  options: {
    sandbox: Sandbox; environment: PreparedEnvironment; runWithoutPatch?: boolean;
    /** Where the runner-module list is kept between processes (see runnerModulesReady). */
    cacheDir?: string;
    /** Waited for once the setup is done and before the tests start; its release is called when they end. */
    testSlot?: () => Promise<() => void>;
  },
): Promise<Grade> {
  const hash = patchHash(patch);
  const flags = patchFlags(patch);
  const base = { instanceId: instance.instance_id, resolved: false, resolution: 'NO' as const, patchHash: hash, revertedFiles: [] as string[], tests: {}, flags };
  const report = (applied: boolean, resolved = false, testsStatus?: Verdict['testsStatus'], matches?: Verdict['matches']) =>
    sweReport(instance.instance_id, { patchIsNone: patch == null, exists: hash !== null, applied, resolved, testsStatus, matches });
  if (!hash && !options.runWithoutPatch) return { ...base, outcome: 'empty_patch', report: report(false) };

  if (options.cacheDir) await runnerModulesReady(options.cacheDir);
  const testFiles = patchPaths(instance.test_patch);
  // A fresh nonce per grading marks our own status lines; nothing the patch prints can carry it.
  const nonce = randomBytes(12).toString('hex');
  const canaries = makeCanaries({
    parser: instance.log_parser, failToPass: instance.FAIL_TO_PASS, stdlib: () => new Set(runnerModuleNames()),
    fileText: (path) => fileAfterTestPatch(options.environment.baseDir, instance.test_patch, path),
  });
  const sharedDirs = await sharedDirsOf(options.environment);

  let workspace: Workspace | undefined;
  try {
    workspace = await options.sandbox.createWorkspace(options.environment);
    const channel = workspace.reportChannel ? channelFor(instance.log_parser, instance.test_cmd) : undefined;
    const patches = { patch: hash ? patch! : null, testPatch: instance.test_patch };
    // The harness's own git directory, holding the patches, where the backend offers one.
    const gitDir = await workspace.gradingGit?.(gradingPayloads({ ...patches, channel }));
    const setup = gradingScript({ nonce, ...patches, testCmd: instance.test_cmd,
      testFiles, sharedDirs, canaries, channel, ...(gitDir === undefined ? {} : { gitDir, gitGuardsPaths: await hostGitGuardsPaths() }) });
    // One sandbox start: the setup runs no code from the patch and reports on its own lines; it then
    // waits at the gate for a test slot (so the next grading's setup overlaps this one's tests), and
    // bash `exec`s the tests, so nothing of ours runs after them and the exit code is their own.
    let release: (() => void) | undefined;
    let waited: Promise<void> | undefined;
    const gate = {
      marker: setup.readyMarker,
      // The tests' own time limit, counted from the moment they may start; the setup has SETUP_TIMEOUT_MS.
      timeoutMs: instance.timeout * 1000,
      open: () => (waited = (options.testSlot?.() ?? Promise.resolve(() => {})).then((r) => void (release = r))),
      // The slot is free once the tests' process has exited: the next tests need not wait for this sandbox's clean-up.
      exited: () => release?.(),
    };
    let run: ExecResult;
    try {
      run = await workspace.exec(setup.script, { stdin: setup.stdin, gate, timeoutMs: SETUP_TIMEOUT_MS, reportChannel: channel !== undefined });
    } finally {
      if (waited) await waited.then(() => release?.());
    }
    const ended = Date.now();
    const detail = run.output.slice(-2000);
    const setupDone = run.output.includes(`${nonce} applied`);
    // Setup runs nothing of the patch: a limit that refused it a process or memory is the machine's doing.
    if (!setupDone && run.resourceRefused) {
      return { ...base, outcome: 'infra_error', error: `the sandbox ran out of ${run.resourceRefused} while preparing the grading: ${detail}`, report: report(false) };
    }
    // Where no cgroup tells (cgroup v2, a process limit shared by gradings, a container), the script's own bash says so.
    if (!setupDone && SETUP_FORK_REFUSED.test(run.output)) {
      return { ...base, outcome: 'infra_error', error: `the sandbox could not fork a process while preparing the grading: ${detail}`, report: report(false) };
    }
    // Exit codes first: when setup stopped, the tests never ran and no status line counts.
    if (run.exitCode === PATCH_FAILED && !setupDone) {
      return { ...base, outcome: 'patch_failed', error: `the patch did not apply with any of: ${APPLY_CHAIN.join('; ')}\n${detail}`, report: report(false) };
    }
    if (run.exitCode === TEST_PATCH_FAILED && !setupDone) {
      // The test patch applies to the clean base (validation proves it), so after a model patch it is the patch's doing.
      return hash
        ? { ...base, outcome: 'patch_failed', error: `the instance's test patch no longer applies after this patch: ${detail}`, report: report(true) }
        : { ...base, outcome: 'infra_error', error: `the instance's test patch did not apply: ${detail}`, report: report(false) };
    }
    const status = new RegExp(`^${nonce} applied (\\d+|none) (\\d+)$`, 'm').exec(run.output);
    if (!status) {
      const why = run.timedOut ? 'preparing the workspace timed out' : `preparing the workspace failed (exit ${run.exitCode})`;
      return { ...base, outcome: 'infra_error', error: `${why}: ${detail}`, report: report(false) };
    }
    const revertedFiles = [...run.output.slice(0, status.index).matchAll(new RegExp(`^${nonce} reverted (.*)$`, 'gm'))].map((m) => m[1]!);
    // The first status line is ours: the tests had not started when it was printed.
    const applyMethod = hash ? APPLY_CHAIN[Number(status[1])] : undefined;
    const testLog = run.output.slice(status.index + status[0].length + 1);
    const testMs = Math.max(0, Math.round(ended - Number(status[2]) / 1000));
    const ran = { ...base, flags: patchFlags(patch, revertedFiles), revertedFiles, applyMethod, testExitCode: run.exitCode, testMs, log: testLog.slice(-LOG_TAIL) };
    if (run.timedOut) return { ...ran, outcome: 'timeout', error: `tests ran past the ${instance.timeout} s timeout`, report: report(true) };

    const read = readReport({ run, testLog, channel, instance, root: workspace.root });
    const judged = canaries && read.log ? judgeCanaries(canaries, read.log.tests) : undefined;
    const tamperReason = read.tamperReason ?? judged?.tamperReason;
    const tests = read.log?.tests ?? new Map<string, TestStatus>();
    // The canaries' failures count as the failures a non-zero exit needs; they are then left out of the record.
    const verdict = decide({
      tests, names: read.log?.names, reportFound: read.log !== undefined, failToPass: instance.FAIL_TO_PASS, passToPass: instance.PASS_TO_PASS,
      exitCode: run.outputLimited && !channel ? null : run.exitCode, evalType: instance.eval_type,
    });
    const recorded = Object.fromEntries([...tests].filter(([id]) => !judged || !(id in judged.statuses)));
    const shared = {
      ...ran, reportSource: channel ? ('channel' as const) : ('log' as const), tests: recorded, testsStatus: verdict.testsStatus, matches: verdict.matches,
      ...(read.log?.names ? { names: Object.fromEntries([...read.log.names].filter(([id]) => id in recorded)) } : {}),
      ...(judged ? { canaries: judged.statuses } : {}),
    };
    if (tamperReason !== undefined) {
      return { ...shared, outcome: 'tampered', resolution: 'NO', trustworthy: false, tamperReason, untrustworthyReason: tamperReason, report: report(true, false, verdict.testsStatus, verdict.matches) };
    }
    const reason = read.incompleteReason ?? verdict.untrustworthyReason;
    const resolved = verdict.resolved && read.incompleteReason === undefined;
    return {
      ...shared,
      outcome: resolved ? 'resolved' : 'unresolved',
      resolved,
      resolution: resolved || read.incompleteReason === undefined ? verdict.resolution : 'NO',
      trustworthy: reason === undefined,
      ...(reason === undefined ? {} : { untrustworthyReason: reason }),
      report: report(true, resolved, verdict.testsStatus, verdict.matches),
    };
  } catch (error) {
    return { ...base, outcome: 'infra_error', error: (error as Error).message, report: report(false) };
  } finally {
    await workspace?.destroy().catch(() => {});
  }
}

type ReadReport = { log?: ParsedLog; tamperReason?: string; incompleteReason?: string };

/**
 * The statuses, from the runner's report channel when it has one (the output log is then only
 * shown, never believed), else from the log. A report that is not exactly one of the expected
 * shape, or a log or channel cut at the output limit, is `tampered`.
 */
function readReport(input: { run: ExecResult; testLog: string; channel: Channel | undefined; instance: Instance; root: string }): ReadReport {
  const { run, channel } = input;
  if (channel) {
    if (run.reportLimited) return { tamperReason: "the runner's report channel went past the output limit: more than one report's worth was written to it" };
    const read = channel.read(run.report ?? '', input.root);
    if (read.kind === 'tampered') return { tamperReason: read.reason };
    if (read.kind === 'incomplete') return { incompleteReason: read.reason };
    return { log: read.log };
  }
  if (run.outputLimited) return { tamperReason: 'the test log was cut at the output limit, so a report in it cannot be told from one pushed in by the flood' };
  const parsed = parseTestLog(input.instance.log_parser, input.testLog, { root: input.root });
  if (parsed.tamperReason) return { tamperReason: parsed.tamperReason };
  return parsed.reportFound ? { log: parsed } : {};
}

/** A test file as the test patch leaves it, as far as the host can tell: the base file and the lines the patch adds to it. */
function fileAfterTestPatch(baseDir: string, testPatch: string, path: string): string | undefined {
  let text = '';
  try {
    text = readFileSync(join(baseDir, path), 'utf8');
  } catch {
    // New in the test patch, or a base that is not on this host.
  }
  const added: string[] = [];
  let inFile = false;
  for (const line of testPatch.split('\n')) {
    if (line.startsWith('diff --git ')) inFile = false;
    if (line.startsWith('+++ ')) inFile = line.replace(/^\+\+\+ (b\/)?/, '').trim() === path;
    else if (inFile && line.startsWith('+')) added.push(line.slice(1));
  }
  return `${text}\n${added.join('\n')}`;
}

function sweReport(
  instanceId: string,
  fields: { patchIsNone: boolean; exists: boolean; applied: boolean; resolved: boolean; testsStatus?: Verdict['testsStatus']; matches?: Verdict['matches'] },
): Record<string, unknown> {
  return {
    [instanceId]: {
      patch_is_None: fields.patchIsNone,
      patch_exists: fields.exists,
      patch_successfully_applied: fields.applied,
      resolved: fields.resolved,
      ...(fields.testsStatus ? { tests_status: fields.testsStatus } : {}),
      // Ours, beside SWE-bench's fields: which parsed tests each listed name matched, and by which rule.
      ...(fields.matches ? { test_matches: fields.matches } : {}),
    },
  };
}
