export { exportRun, writeExport, exportName, summarize, NOT_GRADED } from './_export.ts';
export { readResultsFile, verifyResults, recordVerification } from './_verify.ts';
export type { Mismatch } from './_verify.ts';
export { renderLeaderboard, readLeaderboardEntries, writeLeaderboard, LEADERBOARD_START, LEADERBOARD_END } from './_leaderboard.ts';
export { resultsFileSchema } from './_results-file.ts';
export type { ResultsFile } from './_results-file.ts';
export { writeInstanceReport, writeEvaluationSummary } from './_swebench.ts';
export type { EvaluationSummary } from './_swebench.ts';
export { runDir, safeName, writeFileAtomic } from './_files.ts';
