import * as z from 'zod';

/** The `[llm]` keys, OpenHands names kept, plus the price and concurrency keys bench adds. */
export const llmSettingsSchema = z.strictObject({
  model: z.string().min(1),
  api_key: z.string(),
  base_url: z.string().superRefine((value, ctx) => {
    const problem = baseUrlProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  api_version: z.string(),
  custom_llm_provider: z.string(),
  temperature: z.number().min(0).max(2),
  top_p: z.number().min(0).max(1),
  top_k: z.int().min(1),
  seed: z.int(),
  max_input_tokens: z.int().positive(),
  max_output_tokens: z.int().positive(),
  timeout: z.number().positive(),
  num_retries: z.int().min(0),
  retry_min_wait: z.number().min(0),
  retry_max_wait: z.number().min(0),
  retry_multiplier: z.number().positive(),
  input_cost_per_token: z.number().min(0),
  output_cost_per_token: z.number().min(0),
  cache_read_input_token_cost: z.number().min(0),
  cache_creation_input_token_cost: z.number().min(0),
  drop_params: z.boolean(),
  caching_prompt: z.boolean(),
  disable_vision: z.boolean(),
  reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high']),
  native_tool_calling: z.boolean(),
  max_message_chars: z.int().positive(),
  embedding_model: z.string(),
  embedding_deployment_name: z.string(),
  max_concurrency: z.int().positive(),
  /** `chat` (chat completions) or `responses` (OpenAI's Responses API); default chosen from the model. */
  wire_api: z.enum(['chat', 'responses']),
  /** The model an Azure deployment or a proxy alias serves, for its price and context window (LiteLLM's name). */
  base_model: z.string().min(1),
});

/**
 * Why a `base_url` cannot be used, or undefined: it must be an http(s) URL that can be built,
 * without user info (Node's fetch refuses to send credentials inside a URL).
 */
export function baseUrlProblem(value: string): string | undefined {
  const example = 'for example http://localhost:8000/v1 or https://api.example.com/v1';
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value.trim())) {
    return `must start with http:// or https:// (${example}); without a scheme the address cannot be reached`;
  }
  const scheme = value.trim().slice(0, value.trim().indexOf(':')).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return `has the scheme \`${scheme}:\`, but providers are reached over HTTP: use http:// or https:// (${example})`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `is not a URL that can be built (check the host name, the port and stray spaces; ${example})`;
  }
  if (/\s/.test(value)) return `holds white space, which a URL cannot (${example})`;
  if (url.username || url.password) {
    return 'carries a user name or password before the host; they cannot be sent that way (Node\'s fetch refuses a URL with credentials) and would be shown wherever the URL is: remove them and put the key in api_key';
  }
  return undefined;
}

export type LlmSettings = z.infer<typeof llmSettingsSchema>;
export type LlmKey = keyof LlmSettings;
export const LLM_KEYS = Object.keys(llmSettingsSchema.shape) as LlmKey[];

/** Seed defaults as our users' documentation states them. */
export const LLM_DEFAULTS: Partial<LlmSettings> = {
  temperature: 0,
  num_retries: 8,
  retry_min_wait: 15,
  retry_max_wait: 120,
  retry_multiplier: 2,
  drop_params: true,
  caching_prompt: true,
  disable_vision: false,
  max_message_chars: 30_000,
  max_concurrency: 4,
};

/** Keys whose values never leave memory. */
export function isSecretKey(key: string): boolean {
  // Prices such as input_cost_per_token end in "token" too, and are not secrets.
  return key === 'api_key' || (!key.includes('cost') && /(^|_)(key|token|secret|password)$/.test(key));
}

/** Built-in agent names; each is described, with the settings it reads, in the agents' registry. */
export const AGENT_TYPES = ['bash', 'patch', 'explore-then-write', 'gold', 'empty'] as const;
export type AgentType = (typeof AGENT_TYPES)[number];

export const agentSettingsSchema = z.strictObject({
  type: z.enum(AGENT_TYPES),
  /** The config the agent's model calls use (the writer's, in explore-then-write). */
  llm_config: z.string().min(1),
  /** The config of the explorer role: the patch agent's file picker, explore-then-write's explorer episode. */
  explorer_llm_config: z.string().min(1),
  /** `explicit` (mini-swe-agent v2): only what the model submits is graded; `autosubmit` (SWE-agent): the source diff on any exit. */
  submit: z.enum(['explicit', 'autosubmit']),
  /** `native`: the provider's tool calling, several calls per answer; `text`: one fenced command per answer. */
  tool_mode: z.enum(['native', 'text']).optional(),
  max_steps: z.int().positive(),
  explorer_max_steps: z.int().positive(),
  max_budget_per_task: z.number().positive(),
  max_wall_time: z.number().positive(),
  command_timeout: z.number().positive(),
  max_output_chars: z.int().positive(),
  max_format_errors: z.int().positive(),
  max_files: z.int().positive(),
  edit_format: z.enum(['search_replace', 'udiff']),
  max_repair_turns: z.int().min(0),
});

export type AgentSettings = z.infer<typeof agentSettingsSchema>;
export type AgentKey = keyof AgentSettings;
export const AGENT_KEYS = Object.keys(agentSettingsSchema.shape) as AgentKey[];

export const AGENT_DEFAULTS: Omit<AgentSettings, 'type' | 'llm_config' | 'explorer_llm_config' | 'tool_mode'> = {
  submit: 'explicit',
  max_steps: 250,
  explorer_max_steps: 40,
  max_budget_per_task: 3,
  max_wall_time: 1800,
  command_timeout: 60,
  max_output_chars: 10_000,
  max_format_errors: 3,
  max_files: 8,
  edit_format: 'search_replace',
  max_repair_turns: 3,
};

/** OpenHands sections bench reads no keys from; they are accepted so one file serves both tools. */
export const FOREIGN_SECTIONS = ['core', 'sandbox', 'security', 'condenser', 'kubernetes', 'mcp', 'extended', 'model_routing'];
