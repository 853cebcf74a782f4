import { matchTests, type TestMatch } from './_match.ts';
import type { TestNames, TestStatus } from './_parse-types.ts';

export type Resolution = 'FULL' | 'PARTIAL' | 'NO';

export type TestsStatus = Record<
  'FAIL_TO_PASS' | 'PASS_TO_PASS' | 'FAIL_TO_FAIL' | 'PASS_TO_FAIL',
  { success: string[]; failure: string[] }
>;

export type Verdict = {
  resolved: boolean;
  /** SWE-bench's: FULL = every FAIL_TO_PASS and PASS_TO_PASS test passes; PARTIAL = some
   * FAIL_TO_PASS pass and every PASS_TO_PASS passes; NO otherwise (and whenever untrustworthy). */
  resolution: Resolution;
  /** SWE-bench report shape. FAIL_TO_FAIL and PASS_TO_FAIL stay empty, as in SWE-bench. */
  testsStatus: TestsStatus;
  /** false when the exit code or the report contradicts the parsed statuses. */
  trustworthy: boolean;
  untrustworthyReason?: string;
  /** Dataset test name -> the parsed tests it matched and by which rule (`_match.ts`). */
  matches: Record<string, TestMatch>;
};

export type DecideInput = {
  tests: Map<string, TestStatus>;
  /** The runner's own names for each parsed test, for matching names written by other harnesses. */
  names?: Map<string, TestNames>;
  reportFound: boolean;
  failToPass: string[];
  passToPass: string[];
  /** Of the test command; null when it was killed by a signal. */
  exitCode: number | null;
  evalType?: 'pass_and_fail' | 'fail_only';
};

/**
 * The verdict on one graded attempt. Each listed name is matched to parsed tests by the rules of
 * `_match.ts`. A test missing from the log failed; XFAIL passes; ERROR fails; SKIPPED fails a
 * FAIL_TO_PASS test but passes a PASS_TO_PASS one (as SWE-bench counts it). `fail_only` leaves
 * PASS_TO_PASS unchecked (its lists stay empty).
 */
export function decide(input: DecideInput): Verdict {
  const failOnly = input.evalType === 'fail_only';
  const matches = matchTests([...input.failToPass, ...(failOnly ? [] : input.passToPass)], input);
  const testsStatus: TestsStatus = {
    FAIL_TO_PASS: split(input.failToPass, matches, (status) => status === 'PASSED' || status === 'XFAIL'),
    PASS_TO_PASS: failOnly
      ? { success: [], failure: [] }
      : split(input.passToPass, matches, (status) => status === 'PASSED' || status === 'XFAIL' || status === 'SKIPPED'),
    FAIL_TO_FAIL: { success: [], failure: [] },
    PASS_TO_FAIL: { success: [], failure: [] },
  };

  const f2p = testsStatus.FAIL_TO_PASS;
  const p2pAllPass = testsStatus.PASS_TO_PASS.failure.length === 0;
  let resolution: Resolution = 'NO';
  if (f2p.failure.length === 0 && p2pAllPass) resolution = 'FULL';
  else if (f2p.success.length > 0 && p2pAllPass) resolution = 'PARTIAL';

  const matched = Object.fromEntries(matches);
  const untrustworthyReason = crossCheck(input);
  if (untrustworthyReason !== undefined) {
    return { resolved: false, resolution: 'NO', testsStatus, trustworthy: false, untrustworthyReason, matches: matched };
  }
  return { resolved: resolution === 'FULL', resolution, testsStatus, trustworthy: true, matches: matched };
}

function split(
  ids: string[],
  matches: Map<string, TestMatch>,
  passes: (status: TestStatus) => boolean,
): { success: string[]; failure: string[] } {
  const success: string[] = [];
  const failure: string[] = [];
  for (const id of ids) {
    const status = matches.get(id)!.status;
    if (status !== 'MISSING' && passes(status)) success.push(id);
    else failure.push(id);
  }
  return { success, failure };
}

/**
 * Why the parsed statuses cannot be believed, if they cannot: no report at all, a report with no
 * test in it, or a runner that exited non-zero (or was killed) while every parsed test passed,
 * the mark of output forged from inside a test (SWE-bench issue 601).
 */
function crossCheck(input: DecideInput): string | undefined {
  if (!input.reportFound) {
    return 'the log holds no test report: the test command stopped before its reporter ran, or printed in another format';
  }
  if (input.tests.size === 0) return 'the test report lists no test at all: no test ran';
  const anyFailure = [...input.tests.values()].some((status) => status === 'FAILED' || status === 'ERROR');
  if (input.exitCode !== 0 && !anyFailure) {
    const how = input.exitCode === null ? 'was killed by a signal' : `exited with code ${input.exitCode}`;
    return `the test command ${how}, yet no failing or erroring test was parsed from its log`;
  }
  return undefined;
}
