import { didYouMean, UserError } from '../errors.ts';
import { LOG_PARSERS, type LogParserName } from '../tasks/index.ts';
import { parseJestJson } from './_parse-jest.ts';
import { parseJestVerbose, parseVitestVerbose } from './_parse-js-verbose.ts';
import { parseGenericJunit, parseNodeJunit, parsePytestJunit } from './_parse-junit.ts';
import { parseKarma } from './_parse-karma.ts';
import { parseMochaJson } from './_parse-mocha.ts';
import { stripAnsi } from './_parse-shared.ts';
import { parsePytest } from './_parse-pytest.ts';
import { parseSympy } from './_parse-sympy.ts';
import { parseTap } from './_parse-tap.ts';
import type { LogParser, ParsedLog, ParseOptions } from './_parse-types.ts';
import { parseDjango, parseUnittest } from './_parse-unittest.ts';

/** Every log parser by the name a task's `log_parser` gives (the names are the task schema's). */
export const PARSERS: Record<LogParserName, LogParser> = {
  'node-junit': { description: 'node:test `--test-reporter=junit`', parse: parseNodeJunit },
  'node-tap': { description: 'node:test `--test-reporter=tap` (files from `location:`)', parse: (log, options) => parseTap(log, options, { nodeLocations: true }) },
  tap: { description: 'TAP 13/14, flat or nested (mocha, vitest, node-tap, tape)', parse: (log, options) => parseTap(log, options, { nodeLocations: false }) },
  junit: { description: 'JUnit XML from any tool (vitest, mocha xunit, jest-junit)', parse: parseGenericJunit },
  'jest-json': { description: 'jest `--json`', parse: parseJestJson },
  'vitest-json': { description: 'vitest `--reporter=json`', parse: (log, options) => parseJestJson(log, options, 'vitest') },
  'mocha-json': { description: 'mocha `--reporter json`', parse: parseMochaJson },
  pytest: { description: 'pytest `-rA` (the short test summary)', parse: (log) => parsePytest(log) },
  'pytest-junit': { description: 'pytest `--junitxml`', parse: parsePytestJunit },
  unittest: { description: 'python `-m unittest -v`', parse: (log) => parseUnittest(log) },
  django: { description: "Django's `tests/runtests.py --verbosity 2`", parse: (log) => parseDjango(log) },
  sympy: { description: "sympy's `bin/test --verbose`", parse: parseSympy },
  'jest-verbose': { description: 'jest `--verbose` console output', parse: parseJestVerbose },
  'vitest-verbose': { description: 'vitest `--reporter=verbose` console output', parse: parseVitestVerbose },
  karma: { description: 'karma with karma-mocha-reporter (`reporters: [\'mocha\']`)', parse: (log) => parseKarma(log) },
};

/**
 * Reads one test run's log (stdout and stderr merged) into per-test statuses and names.
 * A test reported more than once keeps its worst status, so a line a test prints about itself
 * can never turn the runner's own failure into a pass. Terminal colour codes are ignored.
 */
export function parseTestLog(parser: LogParserName, rawLog: string, options: ParseOptions): ParsedLog {
  const entry = Object.hasOwn(PARSERS, parser) ? PARSERS[parser] : undefined;
  if (entry === undefined) {
    // Reached only when an unchecked string (from a task file) slips past the type.
    const name = String(parser);
    throw new UserError(
      `Unknown log parser \`${name}\`.${didYouMean(name, LOG_PARSERS)} ` +
        `Set the task's \`log_parser\` to one of: ${LOG_PARSERS.join(', ')}.`,
    );
  }
  return entry.parse(stripAnsi(rawLog), options);
}
