/** The figures the benchmark scripts print: min / median / max over repeats, never the best alone. */

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function round(value: number, digits = 3): number {
  return Number(value.toFixed(digits));
}

export type Spread = { min: number; median: number; max: number };

/** min / median / max, rounded to `digits`; the median of an even count is the mean of the middle two. */
export function spread(values: readonly number[], digits = 3): Spread {
  return { min: round(Math.min(...values), digits), median: round(median(values), digits), max: round(Math.max(...values), digits) };
}

export const spreadText = (s: Spread) => `${s.min} / ${s.median} / ${s.max}`;
