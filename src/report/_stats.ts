/** z for a two-sided 95% interval. */
export const Z95 = 1.96;

/** Wilson score interval for k successes in n trials; n = 0 says nothing, so [0, 1]. */
export function wilson(k: number, n: number, z = Z95): { low: number; high: number; centre: number } {
  checkCount(k, n, 'wilson');
  if (n === 0) return { low: 0, high: 1, centre: 0.5 };
  const p = k / n;
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  // The bounds are exact at the edges; rounding must not push them past 0 or 1.
  const low = k === 0 ? 0 : Math.max(0, centre - half);
  const high = k === n ? 1 : Math.min(1, centre + half);
  return { low, high, centre };
}

/** McNemar's exact test on the discordant pairs: p = min(1, 2 * P(X <= min(b, c))), X ~ Binom(b + c, 1/2). */
export function mcnemarExact(b: number, c: number): number {
  if (!Number.isInteger(b) || !Number.isInteger(c) || b < 0 || c < 0) {
    throw new RangeError(`mcnemarExact needs counts that are whole numbers >= 0, got b=${b}, c=${c}`);
  }
  const n = b + c;
  const m = Math.min(b, c);
  // Log space, so large n neither overflows C(n, i) nor underflows 2^-n.
  let logChoose = 0;
  let cdf = 0;
  for (let i = 0; i <= m; i++) {
    if (i > 0) logChoose += Math.log(n - i + 1) - Math.log(i);
    cdf += Math.exp(logChoose - n * Math.LN2);
  }
  return Math.min(1, 2 * cdf);
}

/** Unbiased pass@k from n samples with c correct (Chen et al. 2021): 1 - C(n-c, k) / C(n, k). */
export function passAtK(n: number, c: number, k: number): number {
  checkCount(c, n, 'passAtK');
  if (!Number.isInteger(k) || k < 1 || k > n) throw new RangeError(`passAtK needs 1 <= k <= n, got n=${n}, k=${k}`);
  if (n - c < k) return 1;
  let missAll = 1;
  for (let i = n - c + 1; i <= n; i++) missAll *= 1 - k / i;
  return 1 - missAll;
}

/**
 * Points no other point beats: none is at least as cheap and at least as good with one of the two
 * strictly better. Points whose cost is null are left out. Returned cheapest first.
 */
export function paretoFrontier<T>(points: T[], cost: (p: T) => number | null, rate: (p: T) => number): T[] {
  const known = points.map((point) => ({ point, cost: cost(point), rate: rate(point) })).filter((p): p is { point: T; cost: number; rate: number } => p.cost !== null);
  const frontier = known.filter((p) => !known.some((q) => beats(q, p)));
  frontier.sort((a, b) => a.cost - b.cost || b.rate - a.rate);
  return frontier.map((p) => p.point);
}

export function beats(q: { cost: number; rate: number }, p: { cost: number; rate: number }): boolean {
  return q.cost <= p.cost && q.rate >= p.rate && (q.cost < p.cost || q.rate > p.rate);
}

/**
 * Difference in resolve rate between two configs on the same n instances, from the discordant
 * counts (wins: only the second resolved; losses: only the first), with a normal-approximation interval.
 */
export function pairedDifference(wins: number, losses: number, n: number, z = Z95): { difference: number; low: number; high: number } {
  if (n <= 0) throw new RangeError(`pairedDifference needs n > 0, got ${n}`);
  const difference = (wins - losses) / n;
  const se = Math.sqrt(Math.max(0, wins + losses - ((wins - losses) ** 2) / n)) / n;
  return { difference, low: Math.max(-1, difference - z * se), high: Math.min(1, difference + z * se) };
}

/** Nearest-rank percentile of values already sorted ascending; 0 for none. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

function checkCount(k: number, n: number, name: string): void {
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 0 || n < 0 || k > n) {
    throw new RangeError(`${name} needs whole numbers 0 <= successes <= trials, got ${k} of ${n}`);
  }
}

/**
 * Resolve rate and 95% interval when instances were attempted several times (`--runs K`): the
 * K attempts on one instance are not independent, so the unit is the instance. The rate is the
 * mean over instances of each one's resolved fraction; the interval is Wilson's at the
 * effective sample size n_eff = p(1 - p) / Var(mean) (Kish's design effect), where Var(mean) is
 * the between-instance variance of the fractions over the number of instances. n_eff lies
 * between the number of instances (every instance all-or-nothing) and the number of attempts
 * (repeats as good as independent); at p = 0 or 1 it is the number of instances. With one
 * attempt per instance this is exactly the Wilson interval over attempts.
 */
export function clusteredRate(instances: { resolved: number; attempts: number }[], z = Z95): { rate: number; low: number; high: number; effectiveN: number } {
  const n = instances.length;
  if (n === 0) return { rate: 0, low: 0, high: 1, effectiveN: 0 };
  let attempts = 0;
  let sum = 0;
  for (const i of instances) {
    checkCount(i.resolved, i.attempts, 'clusteredRate');
    if (i.attempts === 0) throw new RangeError('clusteredRate needs at least one attempt per instance');
    attempts += i.attempts;
    sum += i.resolved / i.attempts;
  }
  const rate = sum / n;
  let between = 0;
  for (const i of instances) between += (i.resolved / i.attempts - rate) ** 2 / n;
  const varianceOfMean = between / n;
  const spread = rate * (1 - rate);
  const effectiveN = spread === 0 || varianceOfMean === 0 ? n : Math.min(attempts, Math.max(n, spread / varianceOfMean));
  return { rate, ...wilsonAt(rate, effectiveN, z), effectiveN };
}

/** Wilson's interval for a proportion p observed over a (possibly fractional) sample size n. */
function wilsonAt(p: number, n: number, z: number): { low: number; high: number } {
  const z2n = (z * z) / n;
  const centre = (p + z2n / 2) / (1 + z2n);
  const half = (z / (1 + z2n)) * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  return { low: p === 0 ? 0 : Math.max(0, centre - half), high: p === 1 ? 1 : Math.min(1, centre + half) };
}
