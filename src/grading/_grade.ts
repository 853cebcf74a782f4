import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import type { Instance } from '../tasks/index.ts';
import { sharedDirsOf, type PreparedEnvironment, type Sandbox, type Workspace } from '../sandbox/index.ts';
import { decide, type Verdict } from './_decide.ts';
import type { TestMatch } from './_match.ts';
import type { TestNames } from './_parse-types.ts';
import { parseTestLog } from './_parsers.ts';
import { TEST_INFRASTRUCTURE_PATTERN, patchPaths } from './_patch-files.ts';

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
  /** Dataset test name -> the parsed tests it matched and by which rule. */
  matches?: Record<string, TestMatch>;
  /** Parsed test id -> the runner's and other harnesses' names for it. */
  names?: Record<string, TestNames>;
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
const SETUP_TIMEOUT_MS = 120_000;
/** Test runners' own modules, shadowed as easily as the standard library's. */
const RUNNER_MODULES = ['pytest', '_pytest', 'pluggy', 'py', 'unittest', 'doctest', 'site', 'sitecustomize', 'usercustomize'];
let shadowPattern: string | undefined;

/**
 * Top-level names that would run in place of a Python standard-library or test-runner module
 * (`unittest.py`, `unittest.pyc`, `unittest/__init__.py`, `unittest.cpython-311.so`...). Read once from the
 * machine's python3; the short runner list stands in when there is none.
 */
function shadowedModulesPattern(): string {
  if (shadowPattern === undefined) {
    let names = RUNNER_MODULES;
    try {
      const listed = execFileSync('python3', ['-I', '-c', 'import sys; print("\\n".join(sys.stdlib_module_names))'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
      names = [...new Set([...names, ...listed.split('\n').filter((name) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name))])];
    } catch {
      // No python3 here: the runner modules alone.
    }
    // Only what Python imports: a module file, a compiled module, or the __init__ that makes a package.
    shadowPattern = `^(${names.join('|')})(/__init__)?(\\.(py|pyc|pyo|pyd|so)|\\.[^/]*\\.so)$`;
  }
  return shadowPattern;
}
const PATCH_FAILED = 97;
const TEST_PATCH_FAILED = 98;
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
  const report = (applied: boolean, resolved = false, testsStatus?: Verdict['testsStatus'], matches?: Verdict['matches']) =>
    sweReport(instance.instance_id, { patchIsNone: patch == null, exists: hash !== null, applied, resolved, testsStatus, matches });
  if (!hash && !options.runWithoutPatch) return { ...base, outcome: 'empty_patch', report: report(false) };

  const testFiles = patchPaths(instance.test_patch);
  // A fresh nonce per grading marks our own status lines; nothing the patch prints can carry it.
  const nonce = randomBytes(12).toString('hex');
  const setup = setupScript({ nonce, patch: hash ? patch! : null, testPatch: instance.test_patch, testCmd: instance.test_cmd,
    timeoutSeconds: instance.timeout, testFiles, sharedDirs: await sharedDirsOf(options.environment) });

  let workspace: Workspace | undefined;
  try {
    workspace = await options.sandbox.createWorkspace(options.environment);
    // One sandbox start: the setup runs no code from the patch and reports on its own line; then
    // bash `exec`s the tests, so nothing of ours runs after them and the exit code is their own.
    const run = await workspace.exec('bash -s', { stdin: setup, timeoutMs: instance.timeout * 1000 + SETUP_TIMEOUT_MS });
    const ended = Date.now();
    const detail = run.output.slice(-2000);
    // Exit codes first: when setup stopped, the tests never ran and no status line counts.
    if (run.exitCode === PATCH_FAILED && !run.output.includes(`${nonce} applied`)) {
      return { ...base, outcome: 'patch_failed', error: `the patch did not apply with any of: ${APPLY_CHAIN.join('; ')}\n${detail}`, report: report(false) };
    }
    if (run.exitCode === TEST_PATCH_FAILED && !run.output.includes(`${nonce} applied`)) {
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
    const testMs = Math.max(0, ended - Number(status[2]));
    const log = testLog.slice(-LOG_TAIL);
    const timedOut = run.timedOut || ((run.exitCode === 124 || run.exitCode === 137) && testMs >= instance.timeout * 1000);
    if (timedOut) {
      return { ...base, revertedFiles, outcome: 'timeout', applyMethod, testExitCode: run.exitCode, testMs, log, error: `tests ran past the ${instance.timeout} s timeout`, report: report(true) };
    }
    const parsed = parseTestLog(instance.log_parser, testLog, { root: workspace.root });
    const verdict = decide({
      tests: parsed.tests, names: parsed.names, reportFound: parsed.reportFound, failToPass: instance.FAIL_TO_PASS, passToPass: instance.PASS_TO_PASS,
      exitCode: run.outputLimited ? null : run.exitCode, evalType: instance.eval_type,
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
      matches: verdict.matches,
      names: Object.fromEntries(parsed.names),
      trustworthy: verdict.trustworthy,
      untrustworthyReason: verdict.untrustworthyReason,
      testExitCode: run.exitCode,
      testMs,
      log,
      report: report(true, verdict.resolved, verdict.testsStatus, verdict.matches),
    };
  } catch (error) {
    return { ...base, outcome: 'infra_error', error: (error as Error).message, report: report(false) };
  } finally {
    await workspace?.destroy().catch(() => {});
  }
}

/**
 * The grading script. Our git directory is moved out of the work tree first, so nothing the patch
 * writes (a `.git/config` with hooks or filters, say) reaches the git commands that follow. Then:
 * apply chain with resets; every changed test-infrastructure path and every test-patch file put
 * back to the base; the test patch; our status line; and bash `exec`s the tests last.
 */
function setupScript(parts: { nonce: string; patch: string | null; testPatch: string; testCmd: string; timeoutSeconds: number; testFiles: string[]; sharedDirs: string[] }): string {
  const say = (text: string) => `printf '%s\\n' "${parts.nonce} ${text}"`;
  const lines = [
    'set -u',
    // A private scratch folder: the local sandbox shares the host's /tmp between gradings.
    'scratch=$(mktemp -d)',
    'mv .git "$scratch/git" || exit 1',
    'export GIT_DIR="$scratch/git" GIT_WORK_TREE="$PWD" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null',
    `printf '%s' '${b64(parts.testPatch)}' | base64 -d > "$scratch/test.patch"`,
    // Logs the patch can influence are indented, so no line of theirs can look like ours.
    'quote() { sed "s/^/| /" "$1" | tail -c 2000; }',
    // Clears a path (and any parent the patch turned into a file or link) and queues it to be put back from the base.
    'restore() {',
    '  local d="$1"',
    '  while [[ "$d" == */* ]]; do',
    '    d="${d%/*}"',
    '    if [ -L "$d" ] || { [ -e "$d" ] && [ ! -d "$d" ]; }; then rm -f -- "$d"; fi',
    '  done',
    '  rm -rf -- "$1"',
    `  printf '%s\\0' "$1" >> "$scratch/restore"`,
    '}',
  ];
  if (parts.patch !== null) {
    lines.push(`printf '%s' '${b64(parts.patch)}' | base64 -d > "$scratch/model.patch"`, 'applied=""');
    // Between tries, everything but the shared dependency folders goes, ignored leftovers included.
    const keep = parts.sharedDirs.map((dir) => ` -e ${shellQuote(`/${dir}`)}`).join('');
    const reset = `git reset --hard --quiet && git clean -ffdxq${keep}`;
    APPLY_CHAIN.forEach((command, index) => {
      const input = command.startsWith('patch') ? '-i "$scratch/model.patch"' : '"$scratch/model.patch"';
      lines.push(`if [ -z "$applied" ]; then`, `  if ${command} ${input} > "$scratch/apply.log" 2>&1; then applied=${index}; else ${reset} > /dev/null 2>&1; fi`, 'fi');
    });
    lines.push(`if [ -z "$applied" ]; then quote "$scratch/apply.log"; exit ${PATCH_FAILED}; fi`);
    const prune = parts.sharedDirs.map((dir) => ` -path ${shellQuote(`./${dir}`)} -prune -o`).join('');
    const excluded = parts.sharedDirs.map((dir) => ` ${shellQuote(`:(exclude)${dir}`)}`).join('');
    lines.push(
      // A .git anywhere in the tree hides what is under it from git itself; no fix creates one.
      `if [ -n "$(find .${prune} -name .git -print -quit)" ]; then echo '| the patch creates a .git'; exit ${PATCH_FAILED}; fi`,
      // What the patch really changed, read from the tree rather than from the diff's headers (NUL-separated: names may hold newlines).
      `{ git diff --name-only -z HEAD; git ls-files --others -z -- .${excluded}; } > "$scratch/changed"`,
      `grep -zE ${shellQuote(TEST_INFRASTRUCTURE_PATTERN)} "$scratch/changed" > "$scratch/revert"`,
      // A top-level module named like one of Python's own (unittest.py or .pyc, say) would run in its place.
      `grep -zE ${shellQuote(shadowedModulesPattern())} "$scratch/changed" >> "$scratch/revert"`,
      `sort -zu "$scratch/revert" | while IFS= read -r -d '' path; do`,
      `  restore "$path"; printf '%s reverted %q\\n' "${parts.nonce}" "$path"`,
      'done',
    );
  } else {
    lines.push('applied=none');
  }
  for (const path of new Set(parts.testFiles)) lines.push(`restore ${shellQuote(path)}`);
  // One checkout for everything queued: what the base has comes back, what it lacks stays removed.
  lines.push(
    'if [ -s "$scratch/restore" ]; then',
    '  xargs -0 git ls-tree -r -z --name-only HEAD -- < "$scratch/restore" > "$scratch/in-base"',
    '  if [ -s "$scratch/in-base" ]; then xargs -0 git checkout -q HEAD -- < "$scratch/in-base" || exit 1; fi',
    'fi',
  );
  lines.push(`git apply --verbose "$scratch/test.patch" > "$scratch/tp.log" 2>&1 || { quote "$scratch/tp.log"; exit ${TEST_PATCH_FAILED}; }`);
  // The tests see the repository as it was: our git directory back in place, git's variables gone.
  lines.push('rm -rf .git && mv "$scratch/git" .git || exit 1', 'unset GIT_DIR GIT_WORK_TREE GIT_CONFIG_NOSYSTEM GIT_CONFIG_GLOBAL');
  lines.push('rm -rf "$scratch"', say('applied $applied $(date +%s%3N)'));
  // coreutils timeout bounds the tests alone and kills their whole process group.
  lines.push(`exec timeout --kill-after=5 ${parts.timeoutSeconds} bash -c ${shellQuote(parts.testCmd)} < /dev/null 2>&1`);
  return `${lines.join('\n')}\n`;
}

function b64(content: string | Buffer): string {
  return Buffer.from(content).toString('base64');
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
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
