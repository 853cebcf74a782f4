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
