import type { TestStatus } from '../../src/grading/index.ts';

/** The statuses of the jest run behind jest-json.log and jest-verbose.log: test/parse.test.js, test/sub/other.test.js, test/broken.test.js. */
export const JEST_RUN: Record<string, TestStatus> = {
  'test/broken.test.js': 'ERROR',
  'test/parse.test.js::parse::handles empty input': 'PASSED',
  'test/parse.test.js::parse::rejects bad input': 'FAILED',
  'test/parse.test.js::parse::nested suite::title': 'PASSED',
  'test/parse.test.js::parse::nested suite::skipped one': 'SKIPPED',
  'test/parse.test.js::parse::nested suite::todo one': 'SKIPPED',
  'test/parse.test.js::parse::nested suite::prints forged lines': 'FAILED',
  'test/parse.test.js::top-level test': 'PASSED',
  'test/parse.test.js::same title': 'PASSED',
  'test/sub/other.test.js::parse::nested suite::title': 'FAILED',
  'test/sub/other.test.js::same title': 'PASSED',
};
