import { maskUrl, type ResolvedLlmConfig } from '../config/index.ts';
import { createLlmClient } from './_client.ts';
import { resolveEndpoint } from './_models.ts';
import { LlmError, type ErrorClass } from './_types.ts';

/** Errors no retry and no waiting fixes: the run cannot go on with such a config. */
const FATAL: ErrorClass[] = ['connection', 'auth', 'not_found', 'quota'];

export type PreflightProblem = {
  config: string;
  /** True when no attempt of this config can succeed; false for a warning (a slow or busy provider). */
  fatal: boolean;
  errorClass: ErrorClass;
  /** One paragraph: what failed, where it was sent, and how to fix it. Secrets masked. */
  message: string;
};

const HOW: Partial<Record<ErrorClass, string>> = {
  connection: 'Check base_url (scheme, host and port) and that the server is running and reachable from this machine',
  auth: 'The provider refused the key: set the right one (the key variable named above, or api_key in the section)',
  not_found: 'The provider does not know this model or deployment: check model (and for Azure the deployment name and api_version)',
  quota: 'The account has no credit or quota left: top it up or use another key',
};

/**
 * One tiny request (a few output tokens, no retry, a short timeout) per distinct endpoint, key
 * and model among `configs`, before any attempt is run. A config whose request failed for a
 * reason no retry fixes (unreachable server, refused key, unknown model, no quota) is a fatal
 * problem; any other failure (a 429, a 5xx, a timeout, a 400 about the tiny request) a warning.
 */
export async function preflight(configs: ResolvedLlmConfig[], options: { env?: NodeJS.ProcessEnv; timeoutS?: number; signal?: AbortSignal } = {}): Promise<PreflightProblem[]> {
  const env = options.env ?? process.env;
  const checks = new Map<string, Promise<LlmError | undefined>>();
  const results = configs.map((config) => {
    const endpoint = resolveEndpoint(config, env);
    const key = JSON.stringify([endpoint.route, endpoint.baseUrl, endpoint.apiVersion ?? '', endpoint.apiKey ?? '', endpoint.model, config.settings.wire_api ?? '']);
    if (!checks.has(key)) checks.set(key, probe(config, env, options.timeoutS ?? 20, options.signal));
    return { config, endpoint, check: checks.get(key)! };
  });
  const problems: PreflightProblem[] = [];
  for (const { config, endpoint, check } of results) {
    const error = await check;
    if (!error) continue;
    const fatal = FATAL.includes(error.errorClass);
    const where = `${endpoint.route} at ${maskUrl(endpoint.baseUrl)}${endpoint.keySource ? `, key from ${keyOrigin(config, endpoint.keySource)}` : ''}`;
    const how = HOW[error.errorClass];
    problems.push({
      config: config.name,
      fatal,
      errorClass: error.errorClass,
      message: `LLM config '${config.name}' (model "${config.settings.model}", ${where}): the pre-flight request failed: ${error.message.replace(/^LLM config '[^']*' \([^)]*\) failed [^:]*: /, '')}.` +
        (fatal ? ` ${how}.` : ' Going on: attempts retry this kind of failure.'),
    });
  }
  return problems;
}

async function probe(config: ResolvedLlmConfig, env: NodeJS.ProcessEnv, timeoutS: number, signal: AbortSignal | undefined): Promise<LlmError | undefined> {
  const settings = { ...config.settings, num_retries: 0, timeout: timeoutS, max_output_tokens: 16 };
  const client = createLlmClient({ ...config, settings }, { env });
  try {
    await client.complete([{ role: 'user', content: 'Reply with the word ok.' }], { signal });
    return undefined;
  } catch (error) {
    if (error instanceof LlmError) return error;
    if (signal?.aborted) return undefined;
    throw error;
  }
}

/** Where the key came from, as the user set it: `LLM_API_KEY`, `api_key in config.toml:12`, `--set api_key=...`. */
function keyOrigin(config: ResolvedLlmConfig, keySource: string): string {
  if (keySource !== 'api_key') return keySource;
  const source = config.sources.api_key;
  if (source?.kind === 'env') return source.variable;
  if (source?.kind === 'flag') return source.flag;
  if (source?.kind === 'file') return `api_key in ${source.file}${source.line ? `:${source.line}` : ''}`;
  return 'api_key';
}
