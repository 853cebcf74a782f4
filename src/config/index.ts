export { loadConfig, selectConfigs, findConfigFile, DEFAULT_LLM } from './_load.ts';
export type { BenchConfig, ResolvedLlmConfig, ResolvedAgentConfig, Source, LoadOptions } from './_load.ts';
export { LLM_KEYS, LLM_DEFAULTS, AGENT_DEFAULTS, AGENT_TYPES, isSecretKey, baseUrlProblem } from './_schema.ts';
export type { LlmSettings, LlmKey, AgentSettings, AgentType, AgentKey } from './_schema.ts';
export { maskSecret, maskUrl, maskUrlsIn, secretValues, withoutSecrets, withMaskedSecrets, redact } from './_secrets.ts';
