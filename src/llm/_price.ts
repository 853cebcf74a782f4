import { calcPrice, type ModelPrice, type Provider as PriceTable } from '@pydantic/genai-prices';
import type { LlmSettings } from '../config/index.ts';
import { priceProviderOf, resolveModel } from './_models.ts';
import type { Usage } from './_types.ts';

// Config keys (USD per token) and the price-table keys (USD per million tokens) they replace.
const OVERRIDES = [
  ['input_cost_per_token', 'input_mtok'],
  ['output_cost_per_token', 'output_mtok'],
  ['cache_read_input_token_cost', 'cache_read_mtok'],
  ['cache_creation_input_token_cost', 'cache_write_mtok'],
] as const;

export type PriceContext = {
  /** When the call was made: prices with hours or start dates (DeepSeek's off-peak hours) are read at that time. */
  at?: Date;
  /** The model the response names: it prices an Azure deployment or a proxy alias when base_model is not set. */
  responseModel?: string;
};

/**
 * USD for one call, from the bundled price table (never fetched), with the config's per-token prices
 * replacing the table's. Null when the model has no known price, or when `usage` is null (the
 * provider sent none): an unknown cost is never reported as 0, unless the config says the model is free.
 */
export function priceOf(settings: Partial<LlmSettings>, usage: Usage | null, context: PriceContext = {}): number | null {
  if (usage === null) return settings.input_cost_per_token === 0 && settings.output_cost_per_token === 0 ? 0 : null;
  let priceModel = settings.model ?? '';
  let priceProvider: string | null = null;
  try {
    ({ priceModel, priceProvider } = resolveModel(settings));
  } catch {
    // An unresolvable model can still be priced by the config's own prices.
  }
  // The table counts input_tokens as the whole prompt with cache reads and writes inside it, as Usage does,
  // so each token is charged once: at the cache rate when cached, else at the input rate.
  const tokens = {
    input_tokens: usage.input,
    output_tokens: usage.output,
    cache_read_tokens: usage.cacheRead,
    cache_write_tokens: usage.cacheWrite,
  };
  const options = context.at ? { timestamp: context.at } : {};
  try {
    let published = priceProvider ? calcPrice(tokens, priceModel, { ...options, providerId: priceProvider }) : null;
    if (!published && !settings.base_model && context.responseModel) {
      const provider = priceProviderOf(context.responseModel) ?? priceProvider;
      const model = context.responseModel.slice(context.responseModel.indexOf('/') + 1);
      published = provider ? calcPrice(tokens, model, { ...options, providerId: provider }) : null;
    }
    const overrides = OVERRIDES.filter(([key]) => settings[key] !== undefined);
    if (overrides.length === 0) return published ? published.total_price : null;

    const prices: ModelPrice = { ...(published?.model_price ?? {}) };
    for (const [key, tableKey] of overrides) prices[tableKey] = settings[key]! * 1_000_000;
    if (prices.input_mtok === undefined || prices.output_mtok === undefined) return null;
    // A one-hour cache-write price needs its parent; keep the table consistent when only the parent is set.
    if (prices.cache_write_1h_mtok !== undefined && prices.cache_write_mtok === undefined) delete prices.cache_write_1h_mtok;
    const id = 'configured';
    const table: PriceTable = { id: 'bench-config', name: 'prices from the config', api_pattern: '', models: [{ id, match: { equals: id }, prices }] };
    return calcPrice(tokens, id, { provider: table })?.total_price ?? null;
  } catch {
    // Inconsistent usage (more cached tokens than prompt tokens) has no honest price.
    return null;
  }
}
