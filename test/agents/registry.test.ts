import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AGENTS, AGENT_NAMES, agentHelp, chooseAgent, unreadAgentKeys } from '../../src/agents/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { bench } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'bench-registry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configFile(text: string) {
  const path = join(dir, `config-${Math.random().toString(36).slice(2)}.toml`);
  writeFileSync(path, text);
  return loadConfig({ path });
}

describe('the agent registry', () => {
  it('--agent help lists every registered agent with what it needs', async () => {
    const help = await bench(['run', '--help']);
    expect(help.exitCode).toBe(0);
    const flat = help.stdout.replace(/\s+/g, ' ');
    // The agents a user can name, written out: a registry change shows here.
    const names = ['bash', 'patch', 'explore-then-write', 'gold', 'empty'];
    expect(AGENT_NAMES).toEqual(names);
    expect(Object.keys(AGENTS)).toEqual(names);
    expect(flat).toContain(agentHelp());
    expect(flat).toContain('bash (one config), patch (one config), explore-then-write (explorer and writer configs), gold (no model), empty (no model)');
    for (const name of names) expect(flat).toContain(`${name} (`);
  });

  it('a section is checked against the keys its type reads, whatever the type', () => {
    const config = configFile(`[llm]\nmodel = "gpt-4o"\n\n[agent.picker]\ntype = "patch"\nexplorer_max_steps = 10\nmax_files = 4\n\n[agent.shell]\ntool_mode = "text"\nmax_repair_turns = 2\n`);
    expect(unreadAgentKeys(config)).toEqual([
      '[agent.picker] (patch agent) sets explorer_max_steps, which the patch agent does not read; remove it or set another type.',
      '[agent.shell] (bash agent) sets max_repair_turns, which the bash agent does not read; remove it or set another type.',
    ]);
  });

  it('an explicit explore-then-write section is one agent with both configs; an unknown --agent lists the registered ones', () => {
    const config = configFile(`[llm]\nmodel = "gpt-4o"\n\n[llm.cheap]\nmodel = "gpt-4o-mini"\n\n[agent.scout-and-write]\ntype = "explore-then-write"\nexplorer_llm_config = 'cheap'\nllm_config = 'llm'\n`);
    expect(chooseAgent(config, 'scout-and-write')).toMatchObject({ name: 'scout-and-write', llmConfig: 'llm', explorerConfig: 'cheap', settings: { type: 'explore-then-write', submit: 'explicit' } });
    expect(() => chooseAgent(config, 'scout')).toThrow(/Agents: bash, patch, explore-then-write, gold, empty, scout-and-write/);
  });
});
