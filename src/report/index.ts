export { loadReportInput } from './_load.ts';
export { buildReport } from './_build.ts';
export { renderReport } from './_render.ts';
export { wilson, mcnemarExact, passAtK, paretoFrontier, pairedDifference } from './_stats.ts';
export { REPORT_FORMATS } from './_types.ts';
export type { Report, ReportFormat, ReportInput, ConfigSummary, PairwiseComparison, MatrixCell } from './_types.ts';
export { money, percent } from './_format.ts';
