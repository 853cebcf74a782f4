export { loadSuite, resolveSuiteDir, TASKS_DIR, DEFAULT_SUITE } from './_suite.ts';
export { loadDataset } from './_dataset.ts';
export { baseFiles, environmentSpec } from './_repo.ts';
export { selectInstances, loadTaskSet, shuffled } from './_select.ts';
export { sha256, canonicalJson } from './_hash.ts';
export { instanceSchema, LOG_PARSERS } from './_schema.ts';
export type { Instance, InstanceFields, TaskSet, LogParserName } from './_schema.ts';
export { loadPredictions } from './_predictions.ts';
export type { Prediction } from './_predictions.ts';
