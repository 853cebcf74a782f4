export { Store, resolveDbPath, checkDbWritable, attemptKey, DEFAULT_DB } from './_store.ts';
export { OUTCOMES } from './_types.ts';
export type { Outcome, RunRecord, AttemptRecord, AttemptRow, LlmCallRecord, RoleCostRow, TestResultRecord, StoredGrade } from './_types.ts';
