import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadConfig, selectConfigs } from '../../src/config/index.ts';
import { UserError } from '../../src/errors.ts';
import { bench, PROJECT_ROOT } from '../helpers/cli.ts';

function tomlFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-config-'));
  const path = join(dir, 'config.toml');
  writeFileSync(path, text);
  return path;
}

function loadError(text: string, env: NodeJS.ProcessEnv = {}): UserError {
  try {
    loadConfig({ path: tomlFile(text), env });
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return error as UserError;
  }
  throw new Error('expected the config to be rejected');
}

const seed = `
[llm]
model = "gpt-4"
api_key = "sk-default-secret-key-0001"
temperature = 0.0

[llm.gpt3]
model = "gpt-3.5-turbo"
temperature = 0.2

[llm.high-creativity]
temperature = 0.8
`;

describe('named LLM configs', () => {
  test('a named section inherits api_key and model from [llm] and overrides what it sets', () => {
    const config = loadConfig({ path: tomlFile(seed), env: {} });
    const gpt3 = config.llm.get('gpt3')!;
    expect(gpt3.settings).toMatchObject({ model: 'gpt-3.5-turbo', temperature: 0.2, api_key: 'sk-default-secret-key-0001', num_retries: 8 });
    expect(gpt3.sources.model).toMatchObject({ kind: 'file', section: 'llm.gpt3', line: 8 });
    expect(gpt3.sources.api_key).toMatchObject({ kind: 'file', section: 'llm', line: 4 });
    const creative = config.llm.get('high-creativity')!;
    expect(creative.settings).toMatchObject({ model: 'gpt-4', temperature: 0.8 });
  });

  test('seed retry defaults apply when nothing sets them', () => {
    const config = loadConfig({ path: tomlFile('[llm]\nmodel = "gpt-4o"\n'), env: {} });
    expect(config.llm.get('llm')!.settings).toMatchObject({ num_retries: 8, retry_min_wait: 15, retry_max_wait: 120, retry_multiplier: 2, temperature: 0 });
    expect(config.llm.get('llm')!.sources.num_retries).toEqual({ kind: 'default' });
  });

  test('LLM_* variables override [llm] before inheritance and reach named sections that do not set the key', () => {
    const config = loadConfig({ path: tomlFile(seed), env: { LLM_API_KEY: 'sk-from-env-0000000002', LLM_MODEL: 'gpt-4o', LLM_NUM_RETRIES: '3', LLM_DROP_PARAMS: '1' } });
    const gpt3 = config.llm.get('gpt3')!;
    expect(gpt3.settings.api_key).toBe('sk-from-env-0000000002');
    expect(gpt3.settings.num_retries).toBe(3);
    expect(gpt3.settings.drop_params).toBe(true);
    expect(gpt3.settings.model).toBe('gpt-3.5-turbo');
    expect(config.llm.get('high-creativity')!.settings.model).toBe('gpt-4o');
    expect(gpt3.sources.api_key).toEqual({ kind: 'env', variable: 'LLM_API_KEY' });
  });

  test('--set flags beat the environment and the named section', () => {
    const config = loadConfig({ path: tomlFile(seed), env: { LLM_TEMPERATURE: '0.5' }, overrides: ['temperature=0.1'] });
    expect(config.llm.get('gpt3')!.settings.temperature).toBe(0.1);
    expect(config.llm.get('gpt3')!.sources.temperature).toMatchObject({ kind: 'flag' });
  });

  test('--configs with an unknown name fails with the nearest name instead of falling back', () => {
    const config = loadConfig({ path: tomlFile(seed), env: {} });
    expect(() => selectConfigs(config, ['gpt-3'])).toThrow(/`gpt-3`.*Did you mean `gpt3`/);
    expect(selectConfigs(config, ['gpt3', 'llm.high-creativity']).map((c) => c.name)).toEqual(['gpt3', 'high-creativity']);
  });

  test('agent sections accept bare names and warn about llm.NAME', () => {
    const config = loadConfig({ path: tomlFile(`${seed}\n[agent.A]\nllm_config = 'gpt3'\n[agent.B]\nllm_config = 'llm.gpt3'\n`), env: {} });
    expect(config.agents.get('A')!.settings.llm_config).toBe('gpt3');
    expect(config.agents.get('B')!.settings.llm_config).toBe('gpt3');
    expect(config.warnings.join('\n')).toMatch(/bare name 'gpt3'/);
  });

  test('the shipped config.example.toml loads without error', () => {
    const config = loadConfig({ path: join(PROJECT_ROOT, 'config.example.toml'), env: {} });
    for (const name of ['gpt3', 'high-creativity', 'gpt5', 'claude-thinking', 'azure-prod', 'local-qwen']) expect(config.llm.has(name)).toBe(true);
    expect(config.agents.get('CodeWriterAgent')!.settings.llm_config).toBe('high-creativity');
    expect(config.agents.get('mini')!.settings).toMatchObject({ submit: 'explicit', tool_mode: 'native' });
    expect(config.llm.get('local-qwen')!.settings.base_url).toBe('http://localhost:11434');
  });
});

describe('bad config input', () => {
  test('a TOML syntax error names the line and column', () => {
    const error = loadError('[llm]\nmodel = "x"\ntemperature = \n');
    expect(error.message).toMatch(/config\.toml:3:\d+: TOML syntax error/);
  });

  test('an unknown key in [llm] names file, line, section and the nearest key', () => {
    const error = loadError('[llm]\nmodel = "x"\nretry_max_wiat = 10\n');
    expect(error.details.join('\n')).toMatch(/config\.toml:3 \[llm\] `retry_max_wiat`: unknown key\. Did you mean `retry_max_wait`\?/);
  });

  test('an unknown key in a named section is an error too, and all errors are reported at once', () => {
    const error = loadError('[llm]\nmodel = "x"\n\n[llm.fast]\ntemprature = 0.1\nnum_retries = -1\n[llm.slow]\ntop_p = "high"\n');
    const details = error.details.join('\n');
    expect(error.details).toHaveLength(3);
    expect(details).toMatch(/config\.toml:5 \[llm\.fast\] `temprature`: unknown key\. Did you mean `temperature`\?/);
    expect(details).toMatch(/config\.toml:6 \[llm\.fast\] `num_retries`: .*>=0.*got -1/);
    expect(details).toMatch(/config\.toml:8 \[llm\.slow\] `top_p`: .*got "high", a string/);
  });

  test('an [agent] whose llm_config names no config is an error', () => {
    const error = loadError('[llm]\nmodel = "x"\n[llm.gpt3]\nmodel = "y"\n[agent.Coder]\nllm_config = "gtp3"\n');
    expect(error.details.join('\n')).toMatch(/config\.toml:6 \[agent\.Coder\] `llm_config`: names LLM config 'gtp3', which does not exist\. Did you mean `gpt3`\?/);
  });

  test('a bad LLM_* value is an error that never shows the secret', () => {
    const error = loadError('[llm]\nmodel = "x"\n', { LLM_NUM_RETRIES: 'many' });
    expect(error.details.join('\n')).toMatch(/LLM_NUM_RETRIES/);
  });

  test('a secret in a wrong-typed value is masked in the error', () => {
    const error = loadError('[llm]\nmodel = "x"\napi_key = "sk-live-0123456789abcdef"\nbase_url = "not a url"\n[llm.x]\napi_key = 42\n');
    expect(`${error.message}\n${error.details.join('\n')}`).not.toContain('sk-live-0123456789abcdef');
  });
});

describe('bench configs', () => {
  test('shows gpt3 and high-creativity from config.example.toml with inherited values, sources and masked secrets', async () => {
    const { exitCode, stdout } = await bench(['configs', '--config', 'config.example.toml'], { env: { LLM_API_KEY: 'sk-proj-abcdefghijklmnopqrstuvwxyz9876' } });
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/\[llm\.gpt3\][\s\S]*model\s+= "gpt-3.5-turbo"\s+# config\.example\.toml:\d+ \[llm\.gpt3\]/);
    expect(stdout).toMatch(/\[llm\.high-creativity\][\s\S]*model\s+= "gpt-4o"\s+# config\.example\.toml:\d+ \[llm\]/);
    expect(stdout).toMatch(/api_key\s+= "sk-\.\.\.9876"\s+# env LLM_API_KEY/);
    expect(stdout).not.toContain('abcdefghijklmnop');
  });

  test('--json prints data with secrets masked', async () => {
    const { exitCode, stdout } = await bench(['configs', '--config', 'config.example.toml', '--configs', 'gpt3', '--json'], { env: { LLM_API_KEY: 'sk-proj-abcdefghijklmnopqrstuvwxyz9876' } });
    expect(exitCode).toBe(0);
    const parsed = JSON.parse(stdout);
    expect(parsed.llm[0]).toMatchObject({ name: 'gpt3', settings: { api_key: 'sk-...9876', model: 'gpt-3.5-turbo' } });
  });

  test('an unknown --configs name exits 2 with one clear paragraph', async () => {
    const { exitCode, stderr } = await bench(['configs', '--config', 'config.example.toml', '--configs', 'gpt-3']);
    expect(exitCode).toBe(2);
    expect(stderr).toMatch(/^error: --configs names `gpt-3`.*Did you mean `gpt3`\?/);
  });

  test('an unreadable config file exits 2 and says how to fix it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-config-'));
    mkdirSync(join(dir, 'config.toml'));
    const missing = await bench(['configs', '--config', join(dir, 'nope.toml')]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/nope\.toml \(from --config\) does not exist/);
    const directory = await bench(['configs', '--config', join(dir, 'config.toml')]);
    expect(directory.exitCode).toBe(2);
    expect(directory.stderr).toMatch(/cannot be read \(EISDIR\)/);
  });

  test('$BENCH_CONFIG is used when --config is absent', async () => {
    const path = tomlFile('[llm]\nmodel = "from-env-file"\n');
    const { exitCode, stdout } = await bench(['configs', '--json'], { env: { BENCH_CONFIG: path } });
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout).llm[0].settings.model).toBe('from-env-file');
  });
});
