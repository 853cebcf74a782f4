import { UserError } from '../errors.ts';
import type { LlmClient } from '../llm/index.ts';
import { runBaseline } from './_baseline.ts';
import { runBashAgent } from './_bash.ts';
import { runPatchAgent } from './_patch.ts';
import type { AgentInput, AgentResult } from './_types.ts';

/** Runs the agent `settings.type` names; model and format trouble end in an exit, never a throw. */
export async function runAgent(input: AgentInput): Promise<AgentResult> {
  const { type } = input.settings;
  switch (type) {
    case 'gold':
    case 'empty':
      return runBaseline(input, type);
    case 'bash':
      return runBashAgent(input, mainClient(input));
    case 'patch':
      return runPatchAgent(input, mainClient(input));
    default:
      throw new UserError(`Unknown agent type ${JSON.stringify(type)}. Set \`type\` in the [agent.NAME] section to one of: bash, patch, gold, empty.`);
  }
}

function mainClient(input: AgentInput): LlmClient {
  if (input.clients.main) return input.clients.main;
  throw new UserError(
    `The ${input.settings.type} agent needs an LLM config and got none. Set \`llm_config\` in its [agent.NAME] section ` +
      'to the name of an [llm.NAME] section, or pass the config to run with --configs.',
  );
}
