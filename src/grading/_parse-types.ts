/** Types every log parser shares, in a file of their own so parser files never import each other's. */

export type TestStatus = 'PASSED' | 'FAILED' | 'SKIPPED' | 'ERROR' | 'XFAIL';

/** What other harnesses call one parsed test, beside our own id; `_match.ts` says how each is used. */
export type TestNames = {
  /** The runner's own full names: pytest node id, `test (module.Class)`, mocha fullTitle, jest fullName and `file->fullName`, vitest `file > suite > title`... */
  native: string[];
  /** The test's own title with no file or suites: what verbose console reporters and sympy print. */
  title?: string;
  /** The name SWE-bench's own log parser would give it, where SWE-bench has one for this output. */
  swebench?: string;
  /** The name SWE-PolyBench's parser would give it (mocha fullTitle, jest `<file>-><fullName>`). */
  polybench?: string;
};

export type ParsedLog = {
  /** Test id (file + ancestor suites + title, joined with `::`) -> status. */
  tests: Map<string, TestStatus>;
  /** Test id -> the runner's names for it. */
  names: Map<string, TestNames>;
  /** false when the log holds no recognisable report at all (crash before the reporter ran). */
  reportFound: boolean;
  /** Set when the log holds a report that cannot be believed: a second report, or one inside another. */
  tamperReason?: string;
};

export type ParseOptions = {
  /** The repository root inside the run, used to make absolute file paths relative. */
  root: string;
};

/** One entry of the parser registry. */
export type LogParser = {
  /** What output it reads and the command-line option that produces it. */
  description: string;
  parse(log: string, options: ParseOptions): ParsedLog;
};
