export { runAgent, AGENTS, AGENT_NAMES } from './_registry.ts';
export type { AgentDefinition } from './_registry.ts';
export { chooseAgent, rolePair, agentTypeOf, unreadAgentKeys, agentChoiceNotes, agentHelp } from './_choose.ts';
export type { AgentChoice } from './_choose.ts';
export { costOf, callCost } from './_episode.ts';
export { toMiniTrajectory } from './_traj.ts';
export type { AgentCall, AgentExit, AgentInput, AgentResult, SubmitMode, TrajectoryStep } from './_types.ts';
