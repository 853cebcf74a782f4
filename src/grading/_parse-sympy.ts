import type { ParsedLog, ParseOptions, TestStatus } from './_parse-types.ts';
import { emptyLog, recordTest, relativePath, testId } from './_parse-shared.ts';

const START = /^=+ test process starts =+$/;
const FINISHED = /^=*\s*tests finished:/;
// `sympy/core/tests/test_basic.py[22] ` then, without --verbose, one character per test.
const FILE_LINE = /^(\S+\.py)\[(\d+|\?)\]\s*(.*)$/;
// A verbose result: the name, then the status, then `[OK]` / `[FAIL]` after a file's last test.
const RESULT = /^(test\w*) (ok|F|E|f|X|T)(?:\s+\[(?:OK|FAIL)\])?$/;
// A skip prints its reason (or ` - `) before the letter.
const SKIP = /^(test\w*) (?:.* )?(s|w|K)(?:\s+\[(?:OK|FAIL)\])?$/;
const BARE_STATUS = /^(ok|F|E|f|X|T)(?:\s+\[(?:OK|FAIL)\])?$/;
// Failure sections: `____ sympy/x/tests/test_y.py:test_z ____` (`::` in some versions), or the file alone when it failed to import.
const FAILURE_HEADER = /^_+ (\S+?\.py)(?:::?(\w+))? _+$/;

const STATUS: Record<string, TestStatus> = { ok: 'PASSED', F: 'FAILED', E: 'ERROR', f: 'XFAIL', X: 'FAILED', T: 'FAILED', s: 'SKIPPED', w: 'SKIPPED', K: 'SKIPPED' };

/**
 * sympy's `bin/test --verbose` (SymPyTests). Id: sympy/core/tests/test_basic.py::test_name; the
 * bare function name is its title (SWE-bench's naming), `file.py:test_name` a native name.
 * Output a test prints lands on its result line, which then holds neither shape and leaves the
 * test open until a bare status follows. The failure sections after the run are the runner's
 * word: a test named there failed, whatever its line said. An XPASS (`X`) fails, as sympy's own
 * summary counts it.
 */
export function parseSympy(log: string, options: ParseOptions): ParsedLog {
  const parsed = emptyLog();
  const lines = log.split(/\r?\n/);
  let file: string | undefined;
  let pending: string | undefined;
  let inFailures = false;
  const record = (name: string, status: TestStatus) =>
    recordTest(parsed, testId([file, name]), status, { title: name, swebench: name, native: [file === undefined ? undefined : `${file}:${name}`] });

  for (const raw of lines) {
    const line = raw.trimEnd();
    if (START.test(line)) {
      parsed.reportFound = true;
      continue;
    }
    if (FINISHED.test(line)) {
      parsed.reportFound = true;
      continue;
    }
    const header = FAILURE_HEADER.exec(line);
    if (header) {
      inFailures = true;
      const [, failedFile, name] = header;
      const relative = relativePath(failedFile!, options.root);
      if (name === undefined) recordTest(parsed, relative, 'ERROR');
      else recordTest(parsed, testId([relative, name]), 'FAILED', { title: name, swebench: name, native: [`${relative}:${name}`] });
      continue;
    }
    if (inFailures) continue;
    const fileLine = FILE_LINE.exec(line);
    if (fileLine) {
      file = fileLine[1]!;
      pending = undefined;
      if (fileLine[2] === '?') recordTest(parsed, file, 'ERROR');
      continue;
    }
    const result = RESULT.exec(line) ?? SKIP.exec(line);
    if (result) {
      record(result[1]!, STATUS[result[2]!]!);
      pending = undefined;
      continue;
    }
    const bare = BARE_STATUS.exec(line.trim());
    if (bare && pending !== undefined) {
      record(pending, STATUS[bare[1]!]!);
      pending = undefined;
      continue;
    }
    const opened = /^(test\w*) /.exec(line);
    if (opened && file !== undefined) pending = opened[1];
  }
  return parsed;
}

