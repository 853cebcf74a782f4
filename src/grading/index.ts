export { gradeInstance, patchHash } from './_grade.ts';
export type { Grade, GradeOutcome } from './_grade.ts';
export { parseTestLog, PARSERS } from './_parsers.ts';
export type { TestStatus, ParsedLog, TestNames } from './_parse-types.ts';
export { decide } from './_decide.ts';
export type { Verdict, Resolution, TestsStatus } from './_decide.ts';
export { patchPaths, TEST_INFRASTRUCTURE_PATTERN } from './_patch-files.ts';
export { matchTests, MATCH_RULES, TEST_NAMINGS, testNameIn, nearestTestNames } from './_match.ts';
export type { TestMatch, MatchRule, TestNaming } from './_match.ts';
