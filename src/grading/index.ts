export { gradeInstance, patchHash } from './_grade.ts';
export type { Grade, GradeOutcome } from './_grade.ts';
export { parseTestLog, LOG_PARSERS, isLogParserName } from './_parsers.ts';
export type { TestStatus, LogParserName, ParsedLog } from './_parsers.ts';
export { decide } from './_decide.ts';
export type { Verdict, Resolution, TestsStatus } from './_decide.ts';
export { patchPaths, TEST_INFRASTRUCTURE_PATTERN } from './_patch-files.ts';
export { Grader, resolveCacheDir, DEFAULT_CACHE_DIR } from './_grader.ts';
export type { GradeCache } from './_grader.ts';
