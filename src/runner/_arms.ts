import { AGENTS, chooseAgent } from '../agents/index.ts';
import { AGENT_DEFAULTS, selectConfigs, type AgentSettings, type BenchConfig, type ResolvedLlmConfig } from '../config/index.ts';
import { UserError } from '../errors.ts';

/** One column of the comparison: a named LLM config (or a baseline) driven by an agent. */
export type Arm = {
  name: string;
  agentName: string;
  settings: AgentSettings;
  llm?: ResolvedLlmConfig;
  explorer?: ResolvedLlmConfig;
};

export const BASELINES = ['empty', 'gold'] as const;

/**
 * The arms of a run: each `--configs` name with the `--agent`; with no config named, the
 * agent's own llm_config (and explorer config); with neither, the gold and empty baselines.
 * An agent whose section fixes its config cannot also be given --configs: one would silently win.
 */
export function planArms(config: BenchConfig, options: { configs: string[]; agent?: string }): Arm[] {
  const agent = chooseAgent(config, options.agent, { configsNamed: options.configs.length > 0 });
  const needs = AGENTS[agent.settings.type].needs;
  if (needs === 'nothing') return [{ name: agent.settings.type, agentName: agent.name, settings: agent.settings }];
  // An unknown --configs name is the first thing to say.
  if (options.configs.length > 0) selectConfigs(config, options.configs);
  if (options.configs.length > 0 && agent.llmConfig) {
    throw new UserError(
      `--configs ${options.configs.join(',')} was given with agent \`${agent.name}\`, whose section fixes llm_config = '${agent.llmConfig}'; bench will not pick one of the two silently. ` +
        `Drop --configs to run the agent's own config, or remove llm_config from its [agent.NAME] section to compare configs with it.`,
    );
  }
  let names = options.configs;
  if (names.length === 0 && agent.llmConfig) names = [agent.llmConfig];
  if (names.length === 0) {
    if (options.agent) {
      throw new UserError(`--agent ${options.agent} needs a model: pass --configs NAME (configs: ${[...config.llm.keys()].join(', ')}), or give [agent.${options.agent}] an llm_config.`);
    }
    return BASELINES.map((type) => ({ name: type, agentName: type, settings: { ...AGENT_DEFAULTS, type } as AgentSettings }));
  }
  if (needs === 'explorer-and-writer' && !agent.explorerConfig) {
    throw new UserError(`Agent \`${agent.name}\` (explore-then-write) needs an explorer config: set llm_config in the explorer's section, or explorer_llm_config in [agent.${agent.name}].`);
  }
  const explorer = agent.explorerConfig ? selectConfigs(config, [agent.explorerConfig])[0] : undefined;
  return selectConfigs(config, names).map((llm) => {
    for (const role of [llm, explorer]) {
      if (role && !role.settings.model) {
        throw new UserError(`LLM config \`${role.name}\` has no model. Set \`model\` in its section (e.g. model = "openai/gpt-4o"), or LLM_MODEL.`);
      }
    }
    // A two-config agent's column is named for both configs, explorer first.
    const name = needs === 'explorer-and-writer' && explorer ? `${explorer.name}+${llm.name}` : llm.name;
    return { name, agentName: agent.name, settings: agent.settings, llm, explorer };
  });
}
