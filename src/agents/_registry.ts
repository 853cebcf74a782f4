import type { AgentKey, AgentType } from '../config/index.ts';
import { UserError } from '../errors.ts';
import type { LlmClient } from '../llm/index.ts';
import { runBaseline } from './_baseline.ts';
import { runBashAgent } from './_bash.ts';
import { runExploreThenWrite } from './_explore-write.ts';
import { runPatchAgent } from './_patch.ts';
import type { AgentInput, AgentResult } from './_types.ts';

export type AgentDefinition = {
  summary: string;
  /** The LLM configs it needs: none (a baseline), the main one, or an explorer and a writer (`main`). */
  needs: 'nothing' | 'model' | 'explorer-and-writer';
  /** The [agent.NAME] keys it reads; any other key in its section is reported. */
  settings: readonly AgentKey[];
  run(input: AgentInput): Promise<AgentResult>;
};

const LIMITS = ['max_budget_per_task', 'max_wall_time'] as const;
const SHELL = ['submit', 'tool_mode', 'max_steps', 'command_timeout', 'max_output_chars', 'max_format_errors', ...LIMITS] as const;

/** Every agent type: `--agent` choices, help and the check of [agent.NAME] sections come from here. */
export const AGENTS: Record<AgentType, AgentDefinition> = {
  bash: {
    summary: 'mini-swe-agent v2: shell commands until the model submits a git diff',
    needs: 'model',
    settings: ['type', 'llm_config', ...SHELL],
    run: (input) => runBashAgent(input, client(input, 'main')),
  },
  patch: {
    summary: 'one answer of edit blocks over the most relevant files, with repair turns; an optional explorer config picks the files',
    needs: 'model',
    settings: ['type', 'llm_config', 'explorer_llm_config', 'submit', 'max_files', 'edit_format', 'max_repair_turns', ...LIMITS],
    run: (input) => runPatchAgent(input, client(input, 'main')),
  },
  'explore-then-write': {
    summary: 'an explorer config reads the repository and hands locations to a writer config, which fixes it as the bash agent',
    needs: 'explorer-and-writer',
    settings: ['type', 'llm_config', 'explorer_llm_config', 'explorer_max_steps', ...SHELL],
    run: (input) => runExploreThenWrite(input, client(input, 'explorer'), client(input, 'main')),
  },
  gold: { summary: "the instance's own fix (upper bound)", needs: 'nothing', settings: ['type'], run: (input) => runBaseline(input, 'gold') },
  empty: { summary: 'no change at all (lower bound)', needs: 'nothing', settings: ['type'], run: (input) => runBaseline(input, 'empty') },
};

export const AGENT_NAMES = Object.keys(AGENTS) as AgentType[];

/** Runs the agent `settings.type` names; model and format trouble end in an exit, never a throw. */
export async function runAgent(input: AgentInput): Promise<AgentResult> {
  const definition = AGENTS[input.settings.type];
  if (!definition) throw new UserError(`Unknown agent type ${JSON.stringify(input.settings.type)}. Set \`type\` in the [agent.NAME] section to one of: ${AGENT_NAMES.join(', ')}.`);
  return definition.run(input);
}

function client(input: AgentInput, role: 'main' | 'explorer'): LlmClient {
  const found = input.clients[role];
  if (found) return found;
  const key = role === 'main' ? 'llm_config' : 'explorer_llm_config';
  throw new UserError(
    `The ${input.settings.type} agent needs ${role === 'main' ? 'an LLM config' : 'an explorer LLM config'} and got none. Set \`${key}\` in its [agent.NAME] section ` +
      'to the name of an [llm.NAME] section' + (role === 'main' ? ', or pass the config to run with --configs.' : '.'),
  );
}
