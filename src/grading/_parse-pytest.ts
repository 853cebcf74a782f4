import type { ParsedLog, TestStatus } from './_parse-types.ts';
import { emptyLog, pytestNames, recordTest } from './_parse-shared.ts';

const SUMMARY_HEADER = /^=+ short test summary info =+\s*$/;
const SECTION_RULE = /^=+ .* =+\s*$/;
const FINAL_LINE = /^=+ .*\bin \d+(\.\d+)?s\b.* =+\s*$/;
const SUMMARY_LINE = /^(PASSED|FAILED|ERROR|XFAIL|XPASS|SKIPPED) (.+)$/;
// The node id, then optionally ` - reason`; a parametrize id in brackets may itself hold ` - `.
const NODE_ID = /^([^[]+?(?:\[.*?\])?)(?: - .*)?$/;

const STATUS: Record<string, TestStatus> = {
  PASSED: 'PASSED',
  FAILED: 'FAILED',
  ERROR: 'ERROR',
  XFAIL: 'XFAIL',
  XPASS: 'PASSED', // a non-strict XPASS; a strict one is reported as FAILED
  SKIPPED: 'SKIPPED',
};

/**
 * pytest `-rA`: only the last "short test summary info" section counts. Captured output (where
 * a test's forged `PASSED` lines end up) is printed before it, and anything printed after the
 * closing `=== ... in 0.12s ===` line is ignored.
 */
export function parsePytest(log: string): ParsedLog {
  const lines = log.split(/\r?\n/);
  const parsed = emptyLog();
  let header = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (SUMMARY_HEADER.test(lines[i]!)) {
      header = i;
      break;
    }
  }
  if (header < 0) return { ...parsed, reportFound: lines.some((line) => FINAL_LINE.test(line)) };
  parsed.reportFound = true;
  for (let i = header + 1; i < lines.length && !SECTION_RULE.test(lines[i]!); i++) {
    const entry = SUMMARY_LINE.exec(lines[i]!.trimEnd());
    if (!entry) continue;
    const rest = entry[2]!;
    // `SKIPPED [1] tests/test_x.py:12: reason` names a location, not a test: nothing to record.
    if (entry[1] === 'SKIPPED' && /^\[\d+\]/.test(rest)) continue;
    const id = NODE_ID.exec(rest)?.[1]?.trim();
    if (id) recordTest(parsed, id, STATUS[entry[1]!]!, pytestNames(id));
  }
  return parsed;
}
