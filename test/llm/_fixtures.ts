import { LLM_DEFAULTS, type LlmSettings, type ResolvedLlmConfig } from '../../src/config/index.ts';

/** A resolved config as the loader would give it: the documented defaults under the given settings. */
export function llmConfig(settings: Partial<LlmSettings>, name = 'test'): ResolvedLlmConfig {
  return { name, settings: { ...LLM_DEFAULTS, ...settings }, sources: {} };
}

/** A sleep that returns at once and remembers every wait it was asked for. */
export function recordingSleep(): { waits: number[]; sleep: (ms: number) => Promise<void> } {
  const waits: number[] = [];
  return { waits, sleep: async (ms: number) => { waits.push(ms); } };
}

export const SECRET_KEY = 'sk-test-very-secret-key-1234567890';
