import { UserError } from '../errors.ts';
import type { LlmSettings, ResolvedLlmConfig } from '../config/index.ts';

/** The wire format and SDK a model is reached with. */
export type Provider = 'openai' | 'anthropic' | 'azure' | 'openai_compatible';

type Route = {
  provider: Provider;
  /** Where the provider's API lives when the config gives no base_url. */
  baseUrl?: string;
  /** Environment variables holding the key, first found wins. */
  keyVariables: string[];
  /** Servers that run without a key (Ollama, vLLM). */
  keyless?: boolean;
  /** The provider id in @pydantic/genai-prices; absent = no published price. */
  priceProvider?: string;
  /** Where the OpenAI-compatible API lives on a server given by its root (Ollama's native URL has no /v1). */
  apiPath?: string;
};

// LiteLLM's prefixes, so model names copied from LiteLLM or OpenHands configs work unchanged.
const ROUTES: Record<string, Route> = {
  openai: { provider: 'openai', baseUrl: 'https://api.openai.com/v1', keyVariables: ['OPENAI_API_KEY'], priceProvider: 'openai' },
  anthropic: { provider: 'anthropic', baseUrl: 'https://api.anthropic.com', keyVariables: ['ANTHROPIC_API_KEY'], priceProvider: 'anthropic' },
  azure: { provider: 'azure', keyVariables: ['AZURE_API_KEY', 'AZURE_OPENAI_API_KEY'], priceProvider: 'azure' },
  deepseek: { provider: 'openai_compatible', baseUrl: 'https://api.deepseek.com/v1', keyVariables: ['DEEPSEEK_API_KEY'], priceProvider: 'deepseek' },
  openrouter: { provider: 'openai_compatible', baseUrl: 'https://openrouter.ai/api/v1', keyVariables: ['OPENROUTER_API_KEY'], priceProvider: 'openrouter' },
  groq: { provider: 'openai_compatible', baseUrl: 'https://api.groq.com/openai/v1', keyVariables: ['GROQ_API_KEY'], priceProvider: 'groq' },
  together_ai: { provider: 'openai_compatible', baseUrl: 'https://api.together.xyz/v1', keyVariables: ['TOGETHERAI_API_KEY', 'TOGETHER_API_KEY', 'TOGETHER_AI_API_KEY'], priceProvider: 'together' },
  mistral: { provider: 'openai_compatible', baseUrl: 'https://api.mistral.ai/v1', keyVariables: ['MISTRAL_API_KEY'], priceProvider: 'mistral' },
  fireworks_ai: { provider: 'openai_compatible', baseUrl: 'https://api.fireworks.ai/inference/v1', keyVariables: ['FIREWORKS_AI_API_KEY', 'FIREWORKS_API_KEY'], priceProvider: 'fireworks' },
  xai: { provider: 'openai_compatible', baseUrl: 'https://api.x.ai/v1', keyVariables: ['XAI_API_KEY'], priceProvider: 'x-ai' },
  gemini: { provider: 'openai_compatible', baseUrl: 'https://generativelanguage.googleapis.com/v1beta/openai', keyVariables: ['GEMINI_API_KEY'], priceProvider: 'google' },
  ollama: { provider: 'openai_compatible', baseUrl: 'http://localhost:11434/v1', keyVariables: ['OLLAMA_API_KEY'], keyless: true, apiPath: '/v1' },
  ollama_chat: { provider: 'openai_compatible', baseUrl: 'http://localhost:11434/v1', keyVariables: ['OLLAMA_API_KEY'], keyless: true, apiPath: '/v1' },
  hosted_vllm: { provider: 'openai_compatible', keyVariables: ['HOSTED_VLLM_API_KEY'], keyless: true, apiPath: '/v1' },
  lm_studio: { provider: 'openai_compatible', baseUrl: 'http://localhost:1234/v1', keyVariables: ['LM_STUDIO_API_KEY'], keyless: true, apiPath: '/v1' },
  litellm_proxy: { provider: 'openai_compatible', keyVariables: ['LITELLM_PROXY_API_KEY'] },
  // Any other server speaking OpenAI chat completions; its key comes from the config only.
  openai_compatible: { provider: 'openai_compatible', keyVariables: [] },
};

/** The LiteLLM provider prefixes bench accepts (`openai/gpt-4o`, `ollama/qwen2.5-coder`, ...). */
export const KNOWN_PROVIDERS: string[] = Object.keys(ROUTES);

export type ResolvedModel = {
  provider: Provider;
  /** The name sent to the API (the deployment for Azure). */
  model: string;
  /** The name looked up in the price table. */
  priceModel: string;
  /** The LiteLLM prefix the model resolved to, e.g. `deepseek`. */
  route: string;
  priceProvider: string | null;
  keyVariables: string[];
  keyless: boolean;
  /** The config's base_url, else the provider's usual one (undefined for Azure and servers that need one). */
  baseUrl: string | undefined;
};

const OPENAI_BARE = /^(gpt-|chatgpt-|o[134](-|$))/i;
const ANTHROPIC_BARE = /^claude-/i;

function where(configName: string | undefined): string {
  if (configName === undefined) return 'The LLM config';
  return `LLM config '${configName}' ([${configName === 'llm' ? 'llm' : `llm.${configName}`}])`;
}

export function resolveModel(settings: Partial<LlmSettings>, configName?: string): ResolvedModel {
  const full = settings.model?.trim();
  if (!full) {
    throw new UserError(`${where(configName)} has no model. Set model in its section (e.g. model = "openai/gpt-4o") or the LLM_MODEL variable.`);
  }
  const known = KNOWN_PROVIDERS.join(', ');
  let routeName: string;
  let model: string;
  const custom = settings.custom_llm_provider?.trim().toLowerCase();
  if (custom) {
    if (!(custom in ROUTES)) {
      throw new UserError(`${where(configName)} sets custom_llm_provider = "${settings.custom_llm_provider}", which bench does not know. Use one of: ${known}.`);
    }
    routeName = custom;
    model = full.toLowerCase().startsWith(`${custom}/`) ? full.slice(custom.length + 1) : full;
  } else {
    const slash = full.indexOf('/');
    const prefix = slash > 0 ? full.slice(0, slash).toLowerCase() : undefined;
    if (prefix !== undefined && prefix in ROUTES) {
      routeName = prefix;
      model = full.slice(slash + 1);
    } else if (OPENAI_BARE.test(full)) {
      routeName = 'openai';
      model = full;
    } else if (ANTHROPIC_BARE.test(full)) {
      routeName = 'anthropic';
      model = full;
    } else if (settings.base_url) {
      routeName = 'openai_compatible';
      model = full;
    } else if (prefix !== undefined) {
      throw new UserError(
        `${where(configName)} has model "${full}", whose provider prefix "${prefix}" bench does not know. Known prefixes: ${known}. Fix the prefix, set custom_llm_provider, or set base_url to reach an OpenAI-compatible server.`,
      );
    } else {
      throw new UserError(
        `${where(configName)} has model "${full}", and bench cannot tell its provider. Write it as provider/model (known prefixes: ${known}), or set base_url to reach an OpenAI-compatible server.`,
      );
    }
  }
  if (!model) throw new UserError(`${where(configName)} has model "${full}" with no model name after the provider prefix. Write it as provider/model, e.g. openai/gpt-4o.`);
  const route = ROUTES[routeName]!;
  const baseUrl = settings.base_url ? withApiPath(settings.base_url, route.apiPath) : route.baseUrl;
  let provider = route.provider;
  // LiteLLM's convention: `openai/<model>` with an api_base is any OpenAI-compatible server.
  if (provider === 'openai' && settings.base_url && !isOpenAiHost(settings.base_url)) provider = 'openai_compatible';
  let priceProvider = route.priceProvider ?? null;
  let priceModel = model;
  // An Azure deployment or a proxy alias is priced as the model it serves (LiteLLM's base_model).
  if (settings.base_model) {
    priceModel = settings.base_model.slice(settings.base_model.indexOf('/') + 1);
    priceProvider = priceProviderOf(settings.base_model) ?? priceProvider;
  }
  return {
    provider,
    model,
    priceModel,
    route: routeName,
    priceProvider,
    keyVariables: route.keyVariables,
    keyless: Boolean(route.keyless) || (baseUrl !== undefined && isLocalUrl(baseUrl)),
    baseUrl,
  };
}

/** `http://host:11434` and `http://host:11434/v1` reach the same API. */
function withApiPath(url: string, apiPath: string | undefined): string {
  if (!apiPath) return url;
  try {
    const parsed = new URL(url);
    if (parsed.pathname.replace(/\/+$/, '') !== '') return url;
    parsed.pathname = apiPath;
    return parsed.toString().replace(/\/+$/, '');
  } catch {
    return url;
  }
}

/** The price table's provider for a model name as LiteLLM writes it (`azure/gpt-4o`, `gpt-4o`, `claude-...`). */
export function priceProviderOf(name: string): string | null {
  const slash = name.indexOf('/');
  const prefix = slash > 0 ? name.slice(0, slash).toLowerCase() : undefined;
  if (prefix !== undefined && prefix in ROUTES) return ROUTES[prefix]!.priceProvider ?? null;
  const model = slash > 0 ? name.slice(slash + 1) : name;
  if (OPENAI_BARE.test(model)) return 'openai';
  if (ANTHROPIC_BARE.test(model)) return 'anthropic';
  return null;
}

function isOpenAiHost(url: string): boolean {
  try {
    return new URL(url).hostname === 'api.openai.com';
  } catch {
    return false;
  }
}

export function isLocalUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || host === '0.0.0.0' || /^127\./.test(host);
  } catch {
    return false;
  }
}

/** Everything a client needs to open a connection, after the config and the environment are combined. */
export type Endpoint = ResolvedModel & {
  /** Null for keyless servers given no key. */
  apiKey: string | null;
  /** Where the key came from, for messages: `api_key` or the variable's name. */
  keySource: string | null;
  baseUrl: string;
  apiVersion?: string;
};

/** A config without an API key: `problem` names it and how to set one; the message adds that nothing ran. */
export class MissingKeyError extends UserError {
  readonly problem: string;

  constructor(problem: string) {
    super(`${problem} Nothing was run.`);
    this.problem = problem;
  }
}

/** Combines the config with the environment; throws UserError naming what to set when something is missing. */
export function resolveEndpoint(config: ResolvedLlmConfig, env: NodeJS.ProcessEnv = process.env): Endpoint {
  const settings = config.settings;
  const resolved = resolveModel(settings, config.name);
  const section = config.name === 'llm' ? '[llm]' : `[llm.${config.name}]`;
  const modelSource = config.sources.model?.kind === 'file' && config.sources.model.line
    ? ` at ${config.sources.model.file}:${config.sources.model.line}`
    : '';

  let apiKey: string | null = settings.api_key ? settings.api_key : null;
  let keySource: string | null = apiKey ? 'api_key' : null;
  if (!apiKey) {
    const variable = resolved.keyVariables.find((name) => env[name]);
    if (variable) {
      apiKey = env[variable]!;
      keySource = variable;
    }
  }
  if (!apiKey && !resolved.keyless) {
    const variables = resolved.keyVariables;
    const how = variables.length > 0
      ? `Set ${variables[0]} in the environment${variables.length > 1 ? ` (or ${variables.slice(1).join(' or ')})` : ''}, or api_key in ${section}`
      : `Set api_key in ${section}`;
    throw new MissingKeyError(
      `LLM config '${config.name}' (model "${settings.model}"${modelSource}, provider ${resolved.route}) has no API key. ${how}; LLM_API_KEY sets it for every config.`,
    );
  }

  let baseUrl = resolved.baseUrl;
  let apiVersion: string | undefined;
  if (resolved.provider === 'azure') {
    baseUrl = settings.base_url ?? env.AZURE_API_BASE ?? env.AZURE_OPENAI_ENDPOINT;
    apiVersion = settings.api_version ?? env.AZURE_API_VERSION ?? env.OPENAI_API_VERSION;
    if (!baseUrl) {
      throw new UserError(`LLM config '${config.name}' (model "${settings.model}") uses Azure but has no endpoint. Set base_url in ${section} to https://<resource>.openai.azure.com, or the AZURE_API_BASE variable.`);
    }
    if (!apiVersion) {
      throw new UserError(`LLM config '${config.name}' (model "${settings.model}") uses Azure but has no API version. Set api_version in ${section} (e.g. "2024-10-21"), or the AZURE_API_VERSION variable.`);
    }
  }
  if (!baseUrl) {
    throw new UserError(`LLM config '${config.name}' (model "${settings.model}", provider ${resolved.route}) needs the server's address. Set base_url in ${section}, e.g. http://localhost:8000/v1.`);
  }
  return { ...resolved, apiKey, keySource, baseUrl, apiVersion };
}

/** Run before any task starts, so a missing key fails the run at once and not after an hour of work. */
export function checkCredentials(config: ResolvedLlmConfig, env: NodeJS.ProcessEnv = process.env): void {
  resolveEndpoint(config, env);
}
