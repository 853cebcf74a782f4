import { AGENT_DEFAULTS, type AgentSettings, type AgentType, type BenchConfig, type ResolvedAgentConfig } from '../config/index.ts';
import { UserError, didYouMean } from '../errors.ts';
import { AGENTS, AGENT_NAMES } from './_registry.ts';

/** The agent a run uses: its name (as the user gave it), settings with defaults, and the configs it fixes. */
export type AgentChoice = {
  name: string;
  settings: AgentSettings;
  /** Configs named by the sections themselves: the writer (or only) config, and the explorer's. */
  llmConfig?: string;
  explorerConfig?: string;
};

// The seed's example names its two agents for their roles, and sets no type.
const EXPLORER_NAME = /explor/i;
const WRITER_NAME = /writ/i;

/**
 * Sections without a `type` whose names say explorer and writer (`RepoExplorerAgent` and
 * `CodeWriterAgent` in the seed's example) are the two roles of one explore-then-write agent.
 */
export function rolePair(config: BenchConfig): { explorer: ResolvedAgentConfig; writer: ResolvedAgentConfig } | undefined {
  const untyped = [...config.agents.values()].filter((section) => section.settings.type === undefined);
  const explorers = untyped.filter((section) => EXPLORER_NAME.test(section.name));
  const writers = untyped.filter((section) => WRITER_NAME.test(section.name) && !EXPLORER_NAME.test(section.name));
  if (explorers.length !== 1 || writers.length !== 1) return undefined;
  return { explorer: explorers[0]!, writer: writers[0]! };
}

/**
 * `--agent NAME` (a built-in type, an [agent.NAME] section, or both sections of an explorer and
 * writer pair, `A+B`); with none, the config's explorer and writer pair when it has one and no
 * --configs are named (the pair brings its own), else bash.
 */
export function chooseAgent(config: BenchConfig, name: string | undefined, options: { configsNamed?: boolean } = {}): AgentChoice {
  const pair = rolePair(config);
  const pairName = pair && `${pair.explorer.name}+${pair.writer.name}`;
  const asked = name?.split(/[+,]/).map((part) => part.trim()).filter(Boolean) ?? [];
  const byDefault = asked.length === 0 && !options.configsNamed;
  if (pair && (byDefault || (asked.length > 0 && asked.every((part) => part === pair.explorer.name || part === pair.writer.name)))) {
    const settings = { ...AGENT_DEFAULTS, ...pair.explorer.settings, ...pair.writer.settings, type: 'explore-then-write' } as AgentSettings;
    if (pair.explorer.settings.llm_config) settings.explorer_llm_config = pair.explorer.settings.llm_config;
    else delete (settings as Partial<AgentSettings>).explorer_llm_config;
    if (!pair.writer.settings.llm_config) delete (settings as Partial<AgentSettings>).llm_config;
    return {
      name: pairName!, settings,
      ...(pair.writer.settings.llm_config ? { llmConfig: pair.writer.settings.llm_config } : {}),
      ...(pair.explorer.settings.llm_config ? { explorerConfig: pair.explorer.settings.llm_config } : {}),
    };
  }
  const agentName = name ?? 'bash';
  const section = config.agents.get(agentName);
  if (section) {
    const type: AgentType = section.settings.type ?? ((AGENT_NAMES as string[]).includes(agentName) ? (agentName as AgentType) : 'bash');
    const settings = { ...AGENT_DEFAULTS, ...section.settings, type } as AgentSettings;
    return {
      name: agentName, settings,
      ...(settings.llm_config ? { llmConfig: settings.llm_config } : {}),
      ...(settings.explorer_llm_config ? { explorerConfig: settings.explorer_llm_config } : {}),
    };
  }
  if ((AGENT_NAMES as string[]).includes(agentName)) return { name: agentName, settings: { ...AGENT_DEFAULTS, type: agentName as AgentType } as AgentSettings };
  const known = [...AGENT_NAMES, ...config.agents.keys(), ...(pairName ? [pairName] : [])];
  throw new UserError(`--agent \`${agentName}\` is neither a built-in agent nor an [agent.${agentName}] section.${didYouMean(agentName, known)} Agents: ${known.join(', ')}.`);
}

/** The type a section runs as: its `type`, its role in an explorer and writer pair, its built-in name, else bash. */
export function agentTypeOf(config: BenchConfig, section: ResolvedAgentConfig): AgentType {
  const pair = rolePair(config);
  if (pair && (section === pair.explorer || section === pair.writer)) return 'explore-then-write';
  return section.settings.type ?? ((AGENT_NAMES as string[]).includes(section.name) ? (section.name as AgentType) : 'bash');
}

/** Keys an [agent.NAME] section sets that its agent type never reads: said, never silently ignored. */
export function unreadAgentKeys(config: BenchConfig): string[] {
  const warnings: string[] = [];
  for (const section of config.agents.values()) {
    const type = agentTypeOf(config, section);
    const reads = new Set<string>(AGENTS[type].settings);
    const unread = Object.keys(section.settings).filter((key) => !reads.has(key));
    if (unread.length > 0) warnings.push(`[agent.${section.name}] (${type} agent) sets ${unread.join(', ')}, which the ${type} agent does not read; remove ${unread.length === 1 ? 'it' : 'them'} or set another type.`);
  }
  return warnings;
}

/**
 * What a run's choice of agent leaves out, said rather than done silently: `--configs` without
 * `--agent` runs the bash agent, so an explorer and writer pair in the config does not run.
 */
export function agentChoiceNotes(config: BenchConfig, options: { agent?: string; configs: string[] }): string[] {
  const pair = rolePair(config);
  if (!pair || options.agent !== undefined || options.configs.length === 0) return [];
  const pairName = `${pair.explorer.name}+${pair.writer.name}`;
  return [
    `--configs ${options.configs.join(',')} without --agent runs the bash agent with each config; the explorer and writer pair ${pairName} in the config is not run. ` +
      `Run \`bench run\` without --configs (or with --agent ${pairName}) for the pipeline.`,
  ];
}

/** `--agent` help: every agent type with what it needs. */
export function agentHelp(): string {
  return AGENT_NAMES.map((name) => `${name} (${AGENTS[name].needs === 'nothing' ? 'no model' : AGENTS[name].needs === 'model' ? 'one config' : 'explorer and writer configs'})`).join(', ');
}
