export { runAgent } from './_run.ts';
export { costOf } from './_episode.ts';
export type { AgentCall, AgentExit, AgentInput, AgentResult, TrajectoryStep } from './_types.ts';
