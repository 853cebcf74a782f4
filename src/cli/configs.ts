import { agentTypeOf } from '../agents/index.ts';
import { defineCommand, printJson } from './_command.ts';
import { JSON_OPTION, configFileOptions } from './_options.ts';
import { LLM_KEYS, loadConfig, selectConfigs, withMaskedSecrets, type ResolvedLlmConfig, type Source } from '../config/index.ts';

export default defineCommand(
  {
    name: 'configs',
    summary: 'Show each resolved LLM config and where each value came from (file, env, default, flag). Secrets are masked.',
    usage: 'bench configs [--config PATH] [--configs a,b] [--set KEY=VALUE] [--json]',
    options: {
      ...configFileOptions(),
      configs: { type: 'list', value: 'a,b', description: 'Only these named configs' },
      ...JSON_OPTION,
    },
  },
  async ({ values }) => {
    const config = loadConfig({ path: values.config, overrides: values.set });
    for (const warning of config.warnings) process.stderr.write(`warning: ${warning}\n`);
    const names = values.configs;
    const chosen = names.length ? selectConfigs(config, names) : [...config.llm.values()];
    if (values.json) {
      printJson({
        file: config.file ?? null,
        llm: chosen.map((c) => ({ name: c.name, settings: withMaskedSecrets(c.settings), sources: c.sources })),
        agents: [...config.agents.values()],
      });
      return 0;
    }
    const out: string[] = [config.file ? `# ${config.file}` : '# no config file found: defaults and LLM_* environment only'];
    for (const llm of chosen) out.push('', ...describe(llm));
    for (const agent of config.agents.values()) {
      out.push('', `[agent.${agent.name}]  (type ${agentTypeOf(config, agent)})`);
      for (const [key, value] of Object.entries(agent.settings)) out.push(`  ${key} = ${JSON.stringify(value)}`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
    return 0;
  },
);

function describe(llm: ResolvedLlmConfig): string[] {
  const settings = withMaskedSecrets(llm.settings) as Record<string, unknown>;
  const keys = LLM_KEYS.filter((key) => settings[key] !== undefined);
  const width = Math.max(0, ...keys.map((k) => k.length));
  const valueWidth = Math.max(0, ...keys.map((k) => JSON.stringify(settings[k]).length));
  const header = llm.name === 'llm' ? '[llm]  (the default)' : `[llm.${llm.name}]`;
  return [header, ...keys.map((key) => `  ${key.padEnd(width)} = ${JSON.stringify(settings[key]).padEnd(valueWidth)}  ${sourceText(llm.sources[key as keyof typeof llm.sources])}`)];
}

function sourceText(source: Source | undefined): string {
  if (!source) return '';
  switch (source.kind) {
    case 'default':
      return '# default';
    case 'env':
      return `# env ${source.variable}`;
    case 'flag':
      return `# flag ${source.flag}`;
    case 'file':
      return `# ${source.file}${source.line ? `:${source.line}` : ''} [${source.section}]`;
  }
}
