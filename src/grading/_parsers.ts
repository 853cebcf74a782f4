import { didYouMean, UserError } from '../errors.ts';
import { parseJestJson } from './_parse-jest.ts';
import { parseGenericJunit, parseNodeJunit, parsePytestJunit } from './_parse-junit.ts';
import { parseMochaJson } from './_parse-mocha.ts';
import { stripAnsi } from './_parse-shared.ts';
import { parsePytest } from './_parse-pytest.ts';
import { parseTap } from './_parse-tap.ts';
import { parseUnittest } from './_parse-unittest.ts';

export type TestStatus = 'PASSED' | 'FAILED' | 'SKIPPED' | 'ERROR' | 'XFAIL';

export const LOG_PARSERS = [
  'node-junit',
  'node-tap',
  'tap',
  'junit',
  'jest-json',
  'vitest-json',
  'mocha-json',
  'pytest',
  'pytest-junit',
  'unittest',
] as const;

export type LogParserName = (typeof LOG_PARSERS)[number];

export type ParsedLog = {
  /** Test id (file + ancestor suites + title, joined with `::`) -> status. */
  tests: Map<string, TestStatus>;
  /** false when the log holds no recognisable report at all (crash before the reporter ran). */
  reportFound: boolean;
};

export type ParseOptions = { root: string };

/**
 * Reads one test run's log (stdout and stderr merged) into per-test statuses.
 * `root` is the repository root inside the run, used to make absolute file paths relative.
 * A test reported more than once keeps its worst status, so a line a test prints about itself
 * can never turn the runner's own failure into a pass. Terminal colour codes are ignored.
 */
export function parseTestLog(parser: LogParserName, rawLog: string, options: { root: string }): ParsedLog {
  const log = stripAnsi(rawLog);
  switch (parser) {
    case 'node-junit':
      return parseNodeJunit(log, options);
    case 'junit':
      return parseGenericJunit(log, options);
    case 'pytest-junit':
      return parsePytestJunit(log, options);
    case 'node-tap':
      return parseTap(log, options, { nodeLocations: true });
    case 'tap':
      return parseTap(log, options, { nodeLocations: false });
    case 'jest-json':
    case 'vitest-json':
      return parseJestJson(log, options);
    case 'mocha-json':
      return parseMochaJson(log, options);
    case 'pytest':
      return parsePytest(log);
    case 'unittest':
      return parseUnittest(log);
    default:
      return assertNever(parser);
  }
}

export function isLogParserName(name: string): name is LogParserName {
  return (LOG_PARSERS as readonly string[]).includes(name);
}

// Reached only when an unchecked string (from a task file) slips past the type.
function assertNever(value: never): never {
  const name = String(value);
  throw new UserError(
    `Unknown log parser \`${name}\`.${didYouMean(name, LOG_PARSERS)} ` +
      `Set the task's \`log_parser\` to one of: ${LOG_PARSERS.join(', ')}.`,
  );
}
