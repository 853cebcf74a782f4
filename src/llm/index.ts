export { createLlmClient } from './_client.ts';
export type { LlmClientOptions } from './_client.ts';
export { resolveModel, checkCredentials, resolveEndpoint, KNOWN_PROVIDERS } from './_models.ts';
export type { Provider, ResolvedModel, Endpoint } from './_models.ts';
export { priceOf } from './_price.ts';
export { retryWaitMs } from './_retry.ts';
export { LlmError } from './_types.ts';
export type { Message, ToolCall, ToolSpec, Usage, TryRecord, ErrorClass, Completion, CompleteOptions, LlmClient, ResponseCache, WireApi, Pacer } from './_types.ts';
export { wireApiOf, maxInputTokensOf } from './_capabilities.ts';
