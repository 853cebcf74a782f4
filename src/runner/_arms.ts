import { AGENT_DEFAULTS, AGENT_TYPES, selectConfigs, type AgentSettings, type AgentType, type BenchConfig, type ResolvedLlmConfig } from '../config/index.ts';
import { UserError, didYouMean } from '../errors.ts';

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
 * agent's own llm_config; with neither, the gold and empty baselines (no model, no key).
 */
export function planArms(config: BenchConfig, options: { configs: string[]; agent?: string }): Arm[] {
  const agent = resolveAgent(config, options.agent);
  if (agent.settings.type === 'gold' || agent.settings.type === 'empty') {
    return [{ name: agent.settings.type, agentName: agent.name, settings: agent.settings }];
  }
  let names = options.configs;
  if (names.length === 0 && agent.settings.llm_config) names = [agent.settings.llm_config];
  if (names.length === 0) {
    if (options.agent) {
      throw new UserError(`--agent ${options.agent} needs a model: pass --configs NAME (configs: ${[...config.llm.keys()].join(', ')}), or give [agent.${options.agent}] an llm_config.`);
    }
    return BASELINES.map((type) => ({ name: type, agentName: type, settings: { ...AGENT_DEFAULTS, type } as AgentSettings }));
  }
  const explorer = agent.settings.explorer_llm_config ? selectConfigs(config, [agent.settings.explorer_llm_config])[0] : undefined;
  return selectConfigs(config, names).map((llm) => {
    if (!llm.settings.model) {
      throw new UserError(`LLM config \`${llm.name}\` has no model. Set \`model\` in its section (e.g. model = "openai/gpt-4o"), or LLM_MODEL.`);
    }
    return { name: llm.name, agentName: agent.name, settings: agent.settings, llm, explorer };
  });
}

function resolveAgent(config: BenchConfig, name: string | undefined): { name: string; settings: AgentSettings } {
  const agentName = name ?? 'bash';
  const section = config.agents.get(agentName);
  if (section) return { name: agentName, settings: { ...AGENT_DEFAULTS, ...section.settings, type: section.type } as AgentSettings };
  if ((AGENT_TYPES as readonly string[]).includes(agentName)) {
    return { name: agentName, settings: { ...AGENT_DEFAULTS, type: agentName as AgentType } as AgentSettings };
  }
  const known = [...AGENT_TYPES, ...config.agents.keys()];
  throw new UserError(`--agent \`${agentName}\` is neither a built-in agent nor an [agent.${agentName}] section.${didYouMean(agentName, known)} Agents: ${known.join(', ')}.`);
}
