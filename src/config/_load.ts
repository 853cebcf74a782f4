import { readFileSync, existsSync } from 'node:fs';
import { resolve, relative } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import type * as z from 'zod';
import { UserError, didYouMean } from '../errors.ts';
import { locateKeys, type KeyLocator } from './_locate.ts';
import {
  AGENT_KEYS, FOREIGN_SECTIONS, LLM_DEFAULTS, LLM_KEYS, agentSettingsSchema, baseUrlProblem, llmSettingsSchema,
  type AgentSettings, type LlmKey, type LlmSettings,
} from './_schema.ts';
import { maskSecret, maskUrl } from './_secrets.ts';
import { isSecretKey } from './_schema.ts';

export type Source =
  | { kind: 'default' }
  | { kind: 'file'; file: string; line?: number; section: string }
  | { kind: 'env'; variable: string }
  | { kind: 'flag'; flag: string };

export type ResolvedLlmConfig = {
  name: string;
  settings: Partial<LlmSettings>;
  sources: Partial<Record<LlmKey, Source>>;
};

export type ResolvedAgentConfig = {
  name: string;
  /** The keys as written; the agents' registry decides the type when `type` is not set. */
  settings: Partial<AgentSettings>;
};

export type BenchConfig = {
  /** The file read, if any. */
  file?: string;
  llm: Map<string, ResolvedLlmConfig>;
  agents: Map<string, ResolvedAgentConfig>;
  warnings: string[];
};

export type LoadOptions = {
  /** `--config PATH`. */
  path?: string;
  env?: NodeJS.ProcessEnv;
  /** `--set key=value` flags: they beat the environment and the file, for every config. */
  overrides?: string[];
  cwd?: string;
};

export const DEFAULT_LLM = 'llm';

type Issue = { line?: number; section: string; key?: string; message: string };

/** `--config PATH`, else `$BENCH_CONFIG`, else `./config.toml` when it exists. */
export function findConfigFile(options: LoadOptions): { path: string; explicit: boolean } | undefined {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  if (options.path) return { path: resolve(cwd, options.path), explicit: true };
  if (env.BENCH_CONFIG) return { path: resolve(cwd, env.BENCH_CONFIG), explicit: true };
  const local = resolve(cwd, 'config.toml');
  return existsSync(local) ? { path: local, explicit: false } : undefined;
}

export function loadConfig(options: LoadOptions = {}): BenchConfig {
  const env = options.env ?? process.env;
  const found = findConfigFile(options);
  const shortPath = found ? relative(options.cwd ?? process.cwd(), found.path) : '';
  const display = found ? (shortPath && !shortPath.startsWith('..') ? shortPath : found.path) : 'the configuration (no config file)';
  const issues: Issue[] = [];
  const warnings: string[] = [];

  let document: Record<string, unknown> = {};
  let locate: KeyLocator = locateKeys('');
  if (found) {
    let text: string;
    try {
      text = readFileSync(found.path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permission denied)' : `cannot be read (${code})`;
      const origin = options.path ? '--config' : '$BENCH_CONFIG';
      throw new UserError(`Config file ${display} (from ${origin}) ${why}. Pass an existing file with --config PATH, or copy config.example.toml to config.toml.`);
    }
    locate = locateKeys(text);
    try {
      document = parse(text) as Record<string, unknown>;
    } catch (error) {
      if (error instanceof TomlError) {
        const reason = error.message.split('\n')[0]!.replace(/^Invalid TOML document: /, '');
        throw new UserError(
          `${display}:${error.line}:${error.column}: TOML syntax error: ${reason}. Fix the file at that line and column (strings need quotes, each key once per section).`,
        );
      }
      throw error;
    }
  }

  const fileSource = (section: string, key: string): Source => ({ kind: 'file', file: display, line: locate.key(section, key), section });

  for (const section of ['llm', 'agent']) {
    if (document[section] !== undefined && !isTable(document[section])) {
      issues.push({ line: locate.key('', section), section, message: `\`${section}\` must be a section ([${section}]), not a plain value; write it as a [${section}] header with keys under it` });
    }
  }
  // Split [llm] into its own keys and its named sections.
  const llmTable = asTable(document.llm);
  const baseKeys: Record<string, unknown> = {};
  const named = new Map<string, Record<string, unknown>>();
  for (const [key, value] of Object.entries(llmTable)) {
    if (isTable(value)) named.set(key, value);
    else baseKeys[key] = value;
  }
  for (const key of Object.keys(document)) {
    if (key === 'llm' || key === 'agent') continue;
    if (FOREIGN_SECTIONS.includes(key)) {
      warnings.push(`${display}:${locate.section(key) ?? '?'}: section [${key}] is an OpenHands section bench does not use; ignored.`);
    } else {
      issues.push({ line: locate.section(key) ?? locate.key('', key), section: key, message: `unknown section [${key}]; bench reads [llm], [llm.NAME] and [agent.NAME].${didYouMean(key, ['llm', 'agent'])}` });
    }
  }

  const base = validateLlm(baseKeys, 'llm', locate, issues);
  const baseSources: Partial<Record<LlmKey, Source>> = {};
  for (const key of LLM_KEYS) {
    if (LLM_DEFAULTS[key] !== undefined) baseSources[key] = { kind: 'default' };
  }
  const baseSettings: Record<string, unknown> = { ...LLM_DEFAULTS };
  for (const [key, value] of Object.entries(base)) {
    baseSettings[key] = value;
    baseSources[key as LlmKey] = fileSource('llm', key);
  }
  // LLM_* variables override [llm] before inheritance, so every named config gets them.
  for (const [key, value] of Object.entries(envSettings(env, issues))) {
    baseSettings[key] = value;
    baseSources[key as LlmKey] = { kind: 'env', variable: `LLM_${key.toUpperCase()}` };
  }

  const flags = flagSettings(options.overrides ?? [], issues);
  const llm = new Map<string, ResolvedLlmConfig>();
  const resolveOne = (name: string, own: Record<string, unknown>): ResolvedLlmConfig => {
    const settings: Record<string, unknown> = { ...baseSettings };
    const sources = { ...baseSources };
    for (const [key, value] of Object.entries(own)) {
      settings[key] = value;
      sources[key as LlmKey] = fileSource(`llm.${name}`, key);
    }
    for (const [key, value] of Object.entries(flags)) {
      settings[key] = value;
      sources[key as LlmKey] = { kind: 'flag', flag: `--set ${key}=...` };
    }
    return { name, settings: settings as Partial<LlmSettings>, sources };
  };
  llm.set(DEFAULT_LLM, resolveOne(DEFAULT_LLM, {}));
  for (const [name, table] of named) {
    llm.set(name, resolveOne(name, validateLlm(table, `llm.${name}`, locate, issues)));
  }
  for (const config of llm.values()) {
    const { retry_min_wait: min, retry_max_wait: max } = config.settings;
    if (min !== undefined && max !== undefined && min > max) {
      const section = config.sources.retry_min_wait?.kind === 'file' ? (config.sources.retry_min_wait as { section: string }).section : 'llm';
      issues.push({ line: locate.key(section, 'retry_min_wait'), section: `llm${config.name === DEFAULT_LLM ? '' : `.${config.name}`}`, key: 'retry_min_wait', message: `is ${min}, larger than retry_max_wait (${max}); make retry_min_wait <= retry_max_wait` });
    }
  }

  const agents = new Map<string, ResolvedAgentConfig>();
  for (const [name, value] of Object.entries(asTable(document.agent))) {
    const section = `agent.${name}`;
    if (!isTable(value)) {
      issues.push({ line: locate.key('agent', name), section: 'agent', key: name, message: `must be a section [agent.${name}], not a plain value` });
      continue;
    }
    const settings = validateAgent(value, section, locate, issues);
    for (const key of ['llm_config', 'explorer_llm_config'] as const) {
      const ref = settings[key];
      if (ref === undefined) continue;
      let bare = ref;
      if (ref.startsWith('llm.')) {
        bare = ref.slice(4);
        warnings.push(`${display}:${locate.key(section, key) ?? '?'}: [${section}] ${key} = '${ref}': write the bare name '${bare}' (OpenHands expects bare names).`);
      }
      if (!llm.has(bare)) {
        issues.push({ line: locate.key(section, key), section, key, message: `names LLM config '${ref}', which does not exist.${didYouMean(bare, llm.keys())} Defined configs: ${[...llm.keys()].join(', ')}` });
      }
      settings[key] = bare;
    }
    agents.set(name, { name, settings });
  }

  if (issues.length > 0) {
    const where = (issue: Issue) => `${display}${issue.line ? `:${issue.line}` : ''} [${issue.section}]${issue.key ? ` \`${issue.key}\`` : ''}`;
    throw new UserError(
      `${display} has ${issues.length} error${issues.length === 1 ? '' : 's'}; nothing was run. Fix each one below (keys and sections are listed in config.example.toml):`,
      { details: issues.map((issue) => `${where(issue)}: ${issue.message}`) },
    );
  }
  return { file: found?.path, llm, agents, warnings };
}

/** The configs named by `--configs`, each must exist: never a silent fall back to the default. */
export function selectConfigs(config: BenchConfig, names: string[]): ResolvedLlmConfig[] {
  const unknown = names.filter((name) => !config.llm.has(name.replace(/^llm\./, '')));
  if (unknown.length > 0) {
    const where = config.file ? `in ${config.file}` : 'because no config file was found (use --config PATH or $BENCH_CONFIG)';
    throw new UserError(
      `--configs names ${unknown.map((n) => `\`${n}\``).join(', ')}, not defined ${where}.${didYouMean(unknown[0]!, config.llm.keys())} Defined configs: ${[...config.llm.keys()].join(', ')}.`,
    );
  }
  return names.map((name) => config.llm.get(name.replace(/^llm\./, ''))!);
}

function validateLlm(table: Record<string, unknown>, section: string, locate: KeyLocator, issues: Issue[]): Partial<LlmSettings> {
  return validateTable(table, section, llmSettingsSchema.partial(), LLM_KEYS, locate, issues) as Partial<LlmSettings>;
}

function validateAgent(table: Record<string, unknown>, section: string, locate: KeyLocator, issues: Issue[]): Partial<AgentSettings> {
  return validateTable(table, section, agentSettingsSchema.partial(), AGENT_KEYS, locate, issues) as Partial<AgentSettings>;
}

function validateTable(
  table: Record<string, unknown>, section: string, schema: z.ZodType, keys: readonly string[], locate: KeyLocator, issues: Issue[],
): Record<string, unknown> {
  const result = schema.safeParse(table);
  if (result.success) return result.data as Record<string, unknown>;
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        const hint = isTable(table[key]) ? ' (a nested section is not allowed here)' : '';
        issues.push({ line: locate.key(section, key), section, key, message: `unknown key${hint}.${didYouMean(key, keys)}` });
      }
      continue;
    }
    const key = String(issue.path[0] ?? '');
    const value = table[key];
    const shown = shownValue(key, value);
    issues.push({ line: locate.key(section, key), section, key, message: `${issue.message} (got ${shown}, a ${describeType(value)})` });
  }
  return {};
}

/** Reads `LLM_<KEY>` variables, typed by the schema: booleans are `true`/`1`/`false`/`0`. */
function envSettings(env: NodeJS.ProcessEnv, issues: Issue[]): Partial<LlmSettings> {
  const settings: Record<string, unknown> = {};
  for (const key of LLM_KEYS) {
    const variable = `LLM_${key.toUpperCase()}`;
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    const value = coerce(key, raw);
    if (value === undefined) {
      const why = key === 'base_url' ? ` (it ${baseUrlProblem(raw)})` : '';
      issues.push({ section: `environment ${variable}`, message: `value ${shownValue(key, raw)} is not valid for \`${key}\`${why}; unset the variable or give a valid value` });
    } else settings[key] = value;
  }
  return settings as Partial<LlmSettings>;
}

function flagSettings(overrides: string[], issues: Issue[]): Partial<LlmSettings> {
  const settings: Record<string, unknown> = {};
  for (const override of overrides) {
    const eq = override.indexOf('=');
    const key = eq > 0 ? override.slice(0, eq).trim() : override;
    if (eq <= 0 || !(LLM_KEYS as string[]).includes(key)) {
      issues.push({ section: `--set ${key}=...`, message: `expected KEY=VALUE with an [llm] key.${didYouMean(key, LLM_KEYS)}` });
      continue;
    }
    const value = coerce(key as LlmKey, override.slice(eq + 1));
    if (value === undefined) issues.push({ section: `--set ${key}=...`, key, message: `value is not valid for this key${key === 'base_url' ? `: it ${baseUrlProblem(override.slice(eq + 1))}` : ''}` });
    else settings[key] = value;
  }
  return settings as Partial<LlmSettings>;
}

function coerce(key: LlmKey, raw: string): unknown {
  const field = llmSettingsSchema.shape[key];
  const candidates: unknown[] = [raw];
  if (raw.trim() !== '' && !Number.isNaN(Number(raw))) candidates.unshift(Number(raw));
  if (/^(true|1)$/i.test(raw)) candidates.push(true);
  if (/^(false|0)$/i.test(raw)) candidates.push(false);
  for (const candidate of candidates) {
    const parsed = field.safeParse(candidate);
    if (parsed.success) return parsed.data;
  }
  return undefined;
}

/** A bad value as quoted in an error: secrets masked, and a URL's credentials too. */
function shownValue(key: string, value: unknown): string {
  if (isSecretKey(key)) return typeof value === 'string' ? maskSecret(value) : '***';
  if (typeof value === 'string' && (key.endsWith('url') || value.includes('://'))) return JSON.stringify(maskUrl(value));
  return JSON.stringify(value) ?? 'nothing';
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function asTable(value: unknown): Record<string, unknown> {
  return isTable(value) ? value : {};
}

function describeType(value: unknown): string {
  if (Array.isArray(value)) return 'list';
  if (value === null || value === undefined) return 'missing value';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'float';
  return typeof value;
}
