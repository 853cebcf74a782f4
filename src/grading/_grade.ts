import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Instance } from '../tasks/index.ts';
import type { PreparedEnvironment, Sandbox, Workspace } from '../sandbox/index.ts';
import { decide, type Verdict } from './_decide.ts';
import { parseTestLog } from './_parsers.ts';
import { isTestInfrastructure, patchFiles } from './_patch-files.ts';

export type GradeOutcome = 'resolved' | 'unresolved' | 'patch_failed' | 'timeout' | 'empty_patch' | 'infra_error';

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
  trustworthy?: boolean;
  untrustworthyReason?: string;
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

const APPLY_CHAIN = [
  'git apply --verbose',
  'git apply --verbose --3way',
  'git apply --verbose --reject',
  'patch --batch --forward --fuzz=5 -p1',
];
const RESET = 'git reset --hard --quiet && git clean -fdq';
const SETUP_TIMEOUT_MS = 120_000;
/** What coreutils timeout exits with when it stopped the tests (TERM, then KILL). */
const TIMEOUT_EXITS = [124, 137];
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
  options: { sandbox: Sandbox; environment: PreparedEnvironment; runWithoutPatch?: boolean },
): Promise<Grade> {
  const hash = patchHash(patch);
  const base = { instanceId: instance.instance_id, resolved: false, resolution: 'NO' as const, patchHash: hash, revertedFiles: [] as string[], tests: {} };
  const report = (applied: boolean, resolved = false, testsStatus?: Verdict['testsStatus']) =>
    sweReport(instance.instance_id, { patchIsNone: patch == null, exists: hash !== null, applied, resolved, testsStatus });
  if (!hash && !options.runWithoutPatch) return { ...base, outcome: 'empty_patch', report: report(false) };

  const testFiles = patchFiles(instance.test_patch);
  const modelFiles = hash ? patchFiles(patch!).map((f) => f.path) : [];
  const revertedFiles = modelFiles.filter((path) => isTestInfrastructure(path) && !testFiles.some((t) => t.path === path));
  // A fresh random marker per grading: the code under test cannot know it, so cannot forge it.
  const marker = `BENCH-${randomBytes(12).toString('hex')}`;
  const script = gradeScript({ marker, patch: hash ? patch! : null, testPatch: instance.test_patch, testCmd: instance.test_cmd, timeoutSeconds: instance.timeout,
    restore: restoreLines(options.environment, [...testFiles.map((f) => f.path), ...revertedFiles]) });

  let workspace: Workspace | undefined;
  try {
    workspace = await options.sandbox.createWorkspace(options.environment);
    const run = await workspace.exec(`cat > /tmp/bench-grade.sh && exec bash /tmp/bench-grade.sh`, {
      stdin: script, timeoutMs: instance.timeout * 1000 + SETUP_TIMEOUT_MS,
    });
    const at = run.output.indexOf(`${marker} `);
    const status = at >= 0 ? /^(\S+)(?: (\S+))?/.exec(run.output.slice(at + marker.length + 1))! : null;
    if (!status) {
      const why = run.timedOut ? 'preparing the workspace timed out' : `the grading script stopped early (exit ${run.exitCode})`;
      return { ...base, revertedFiles, outcome: 'infra_error', error: `${why}: ${run.output.slice(-500)}`, report: report(false) };
    }
    const detail = run.output.slice(at).split('\n').slice(1).join('\n').slice(-2000);
    if (status[1] === 'patch_failed') {
      return { ...base, outcome: 'patch_failed', error: `the patch did not apply with any of: ${APPLY_CHAIN.join('; ')}\n${detail}`, report: report(false) };
    }
    if (status[1] === 'test_patch_failed') {
      return { ...base, revertedFiles, outcome: 'infra_error', error: `the instance's test patch did not apply: ${detail}`, report: report(true) };
    }
    const applyMethod = hash ? APPLY_CHAIN[Number(status[2])] : undefined;
    // The tests sit between our two marker lines; the last marker line carries their exit code and time.
    const afterApplied = run.output.slice(at).split('\n').slice(1).join('\n');
    const finishedAt = afterApplied.lastIndexOf(`${marker} finished `);
    const finished = finishedAt >= 0 ? /^finished (\d+) (\d+)/.exec(afterApplied.slice(finishedAt + marker.length + 1)) : null;
    const testLog = finishedAt >= 0 ? afterApplied.slice(0, finishedAt) : afterApplied;
    const testExitCode = finished ? Number(finished[1]) : null;
    const testMs = finished ? Number(finished[2]) : run.durationMs;
    const log = testLog.slice(-LOG_TAIL);
    const timedOut = run.timedOut || (finished !== null && TIMEOUT_EXITS.includes(testExitCode!) && testMs >= instance.timeout * 1000 - 50);
    if (timedOut) {
      return { ...base, revertedFiles, outcome: 'timeout', applyMethod, testExitCode, testMs, log, error: `tests ran past the ${instance.timeout} s timeout`, report: report(true) };
    }
    const parsed = parseTestLog(instance.log_parser, testLog, { root: workspace.root });
    const verdict = decide({
      tests: parsed.tests, reportFound: parsed.reportFound, failToPass: instance.FAIL_TO_PASS, passToPass: instance.PASS_TO_PASS,
      exitCode: testExitCode, evalType: instance.eval_type,
    });
    return {
      ...base,
      outcome: verdict.resolved ? 'resolved' : 'unresolved',
      resolved: verdict.resolved,
      resolution: verdict.resolution,
      applyMethod,
      revertedFiles,
      tests: Object.fromEntries(parsed.tests),
      testsStatus: verdict.testsStatus,
      trustworthy: verdict.trustworthy,
      untrustworthyReason: verdict.untrustworthyReason,
      testExitCode,
      testMs,
      log,
      report: report(true, verdict.resolved, verdict.testsStatus),
    };
  } catch (error) {
    return { ...base, revertedFiles, outcome: 'infra_error', error: (error as Error).message, report: report(false) };
  } finally {
    await workspace?.destroy().catch(() => {});
  }
}

/**
 * One script per grading, so the whole chain costs one sandbox start: apply chain with resets,
 * base content put back for test-patch files and planted hooks, test patch, then the tests.
 */
function gradeScript(parts: { marker: string; patch: string | null; testPatch: string; testCmd: string; timeoutSeconds: number; restore: string[] }): string {
  const lines = ['set -u', `printf '%s' '${b64(parts.testPatch)}' | base64 -d > /tmp/bench-test.patch`];
  if (parts.patch !== null) {
    lines.push(`printf '%s' '${b64(parts.patch)}' | base64 -d > /tmp/bench-model.patch`, 'applied=""');
    APPLY_CHAIN.forEach((command, index) => {
      const input = command.startsWith('patch') ? '-i /tmp/bench-model.patch' : '/tmp/bench-model.patch';
      lines.push(`if [ -z "$applied" ]; then`, `  if ${command} ${input} > /tmp/bench-apply.log 2>&1; then applied=${index}; else ${RESET} > /dev/null 2>&1; fi`, 'fi');
    });
    lines.push(`if [ -z "$applied" ]; then echo "${parts.marker} patch_failed"; tail -c 2000 /tmp/bench-apply.log; exit 97; fi`);
  } else {
    lines.push('applied=none');
  }
  lines.push(...parts.restore);
  lines.push(`git apply --verbose /tmp/bench-test.patch > /tmp/bench-tp.log 2>&1 || { echo "${parts.marker} test_patch_failed"; tail -c 2000 /tmp/bench-tp.log; exit 98; }`);
  lines.push(`echo "${parts.marker} applied $applied"`);
  // coreutils timeout kills the tests' whole process group; the sandbox's own limit stays as a net.
  lines.push('started=$(date +%s%N)');
  lines.push(`timeout --kill-after=5 ${parts.timeoutSeconds} bash -c ${shellQuote(parts.testCmd)} < /dev/null 2>&1`);
  lines.push('code=$?', 'ended=$(date +%s%N)');
  lines.push(`echo; echo "${parts.marker} finished $code $(( (ended - started) / 1000000 ))"`);
  return `${lines.join('\n')}\n`;
}

/** Puts paths back to their base content (or removes them); runs inside the sandbox, so planted symlinks lead nowhere. */
function restoreLines(environment: PreparedEnvironment, paths: string[]): string[] {
  const lines: string[] = [];
  for (const path of new Set(paths)) {
    if (path.split('/').includes('..') || path.startsWith('/')) continue;
    const quoted = shellQuote(path);
    lines.push(`rm -rf -- ${quoted}`);
    const basePath = join(environment.baseDir, path);
    if (existsSync(basePath) && lstatSync(basePath).isFile()) {
      lines.push(`mkdir -p -- "$(dirname -- ${quoted})"`, `printf '%s' '${b64(readFileSync(basePath))}' | base64 -d > ${quoted}`);
    }
  }
  return lines;
}

function b64(content: string | Buffer): string {
  return Buffer.from(content).toString('base64');
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function sweReport(
  instanceId: string,
  fields: { patchIsNone: boolean; exists: boolean; applied: boolean; resolved: boolean; testsStatus?: Verdict['testsStatus'] },
): Record<string, unknown> {
  return {
    [instanceId]: {
      patch_is_None: fields.patchIsNone,
      patch_exists: fields.exists,
      patch_successfully_applied: fields.applied,
      resolved: fields.resolved,
      ...(fields.testsStatus ? { tests_status: fields.testsStatus } : {}),
    },
  };
}
