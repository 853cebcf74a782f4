export { runEvaluation } from './_evaluate.ts';
export type { EvaluationSummary } from './_evaluate.ts';
export { Grader, resolveCacheDir, DEFAULT_CACHE_DIR } from './_grader.ts';
export { chooseSandbox } from './_sandbox-choice.ts';
export { newRunId } from './_attempt.ts';
export { HARNESS_VERSION, gitCommit } from './_version.ts';
export { Progress } from './_progress.ts';
export { runDir } from './_files.ts';
