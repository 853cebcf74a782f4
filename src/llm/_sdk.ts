import { createHash } from 'node:crypto';
import type OpenAI from 'openai';
import { lightFetch } from './_http.ts';
import type { Endpoint } from './_models.ts';
import { splitBaseUrl } from './_wire.ts';

/**
 * The provider SDKs, loaded on first use only: together they are hundreds of modules, which
 * `bench eval`, `bench report` and the other commands that never call a model must not load.
 */
let openAi: Promise<typeof import('openai')> | undefined;
let anthropic: Promise<typeof import('@anthropic-ai/sdk')> | undefined;

export function loadOpenAiSdk(): Promise<typeof import('openai')> {
  openAi ??= import('openai');
  return openAi;
}

export function loadAnthropicSdk(): Promise<typeof import('@anthropic-ai/sdk')> {
  anthropic ??= import('@anthropic-ai/sdk');
  return anthropic;
}

const clients = new Map<string, Promise<unknown>>();

/**
 * One SDK client per distinct set of constructor options, shared by every LlmClient made with
 * them (a run makes one per attempt): building an SDK client costs more than a call's own work.
 * The options, key included, are kept only as a hash.
 */
export function sharedSdkClient<T>(kind: string, options: Record<string, unknown>, make: () => Promise<T>): Promise<T> {
  const key = createHash('sha256').update(`${kind}\0${JSON.stringify(options)}`).digest('hex');
  let client = clients.get(key) as Promise<T> | undefined;
  if (!client) {
    client = make();
    client.catch(() => clients.delete(key));
    clients.set(key, client);
  }
  return client;
}

/**
 * The OpenAI (or Azure OpenAI) SDK client of an endpoint, loaded and made with the first call,
 * shared as above. Azure's base URL differs between the APIs, so the caller gives it.
 */
export function openAiClient(endpoint: Endpoint, timeoutMs: number, azureBaseURL: () => string): () => Promise<OpenAI> {
  // Our retry layer is the only one, and nothing is read from process.env behind the config's back.
  const common = { maxRetries: 0, timeout: timeoutMs, organization: null, project: null, adminAPIKey: null, webhookSecret: null, fetch: lightFetch };
  const apiKey = endpoint.apiKey ?? 'no-key';
  const azure = endpoint.provider === 'azure';
  const construction = azure
    ? { ...common, apiKey, apiVersion: endpoint.apiVersion, baseURL: azureBaseURL(), deployment: endpoint.model }
    : { ...common, apiKey, ...splitBaseUrl(endpoint.baseUrl) };
  let client: Promise<OpenAI> | undefined;
  return () => (client ??= sharedSdkClient(azure ? 'azure' : 'openai', construction, () => loadOpenAiSdk().then(({ default: OpenAI, AzureOpenAI }) =>
    azure ? new AzureOpenAI(construction) : new OpenAI(construction))));
}
