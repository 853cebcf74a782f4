import { describe, expect, it } from 'vitest';
import { mcnemarExact, pairedDifference, paretoFrontier, passAtK, wilson } from '../../src/report/index.ts';

describe('wilson', () => {
  it('gives [65.8%, 73.9%] for 350 of 500', () => {
    const { low, high, centre } = wilson(350, 500);
    expect(low * 100).toBeCloseTo(65.8, 1);
    expect(high * 100).toBeCloseTo(73.9, 1);
    expect(centre).toBeGreaterThan(low);
    expect(centre).toBeLessThan(0.7);
  });

  it('starts exactly at 0 when nothing passed and ends exactly at 1 when everything did', () => {
    const none = wilson(0, 20);
    expect(none.low).toBe(0);
    expect(none.high).toBeGreaterThan(0.1);
    expect(none.high).toBeLessThan(0.2);
    const all = wilson(20, 20);
    expect(all.high).toBe(1);
    expect(all.low).toBeCloseTo(1 - none.high, 12);
  });

  it('says nothing about a rate with no trials', () => {
    expect(wilson(0, 0)).toEqual({ low: 0, high: 1, centre: 0.5 });
  });

  it('rejects more successes than trials', () => {
    expect(() => wilson(3, 2)).toThrow(RangeError);
  });
});

describe('mcnemarExact', () => {
  it('is 1 when there are no discordant pairs', () => {
    expect(mcnemarExact(0, 0)).toBe(1);
  });

  it('gives 0.0386 for 10 against 2', () => {
    expect(mcnemarExact(10, 2)).toBeCloseTo(0.0386, 4);
  });

  it('is symmetric in its two counts', () => {
    expect(mcnemarExact(2, 10)).toBe(mcnemarExact(10, 2));
    expect(mcnemarExact(7, 31)).toBe(mcnemarExact(31, 7));
  });

  it('never exceeds 1 for balanced counts', () => {
    expect(mcnemarExact(5, 5)).toBe(1);
  });

  it('stays finite and tiny for thousands of pairs', () => {
    const p = mcnemarExact(2000, 1000);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(1e-30);
    expect(mcnemarExact(1500, 1500)).toBe(1);
  });
});

describe('passAtK', () => {
  it('is 0 when no sample is correct and 1 when all are', () => {
    expect(passAtK(5, 0, 1)).toBe(0);
    expect(passAtK(5, 0, 5)).toBe(0);
    expect(passAtK(5, 5, 1)).toBe(1);
    expect(passAtK(5, 5, 3)).toBe(1);
  });

  it('equals the fraction correct for k = 1', () => {
    expect(passAtK(10, 3, 1)).toBeCloseTo(0.3, 12);
  });

  it('equals 1 - C(7,5)/C(10,5) for n=10, c=3, k=5', () => {
    expect(passAtK(10, 3, 5)).toBeCloseTo(1 - 21 / 252, 12);
  });

  it('is 1 once k exceeds the number of wrong samples', () => {
    expect(passAtK(10, 6, 5)).toBe(1);
  });

  it('rejects k larger than n', () => {
    expect(() => passAtK(3, 1, 4)).toThrow(RangeError);
  });
});

describe('paretoFrontier', () => {
  const configs = [
    { name: 'cheap', cost: 0.01, rate: 0.3 },
    { name: 'mid', cost: 0.5, rate: 0.4 },
    { name: 'best', cost: 0.8, rate: 0.7 },
    { name: 'pricey-bad', cost: 1.0, rate: 0.35 },
    { name: 'same-price-worse', cost: 0.5, rate: 0.38 },
    { name: 'unpriced', cost: null, rate: 0.9 },
  ];

  it('keeps configs no other beats on both cost and rate, cheapest first', () => {
    const frontier = paretoFrontier(configs, (c) => c.cost, (c) => c.rate).map((c) => c.name);
    expect(frontier).toEqual(['cheap', 'mid', 'best']);
  });

  it('leaves out configs whose cost is unknown', () => {
    const frontier = paretoFrontier(configs, (c) => c.cost, (c) => c.rate);
    expect(frontier.some((c) => c.name === 'unpriced')).toBe(false);
  });

  it('keeps both of two configs that tie exactly', () => {
    const tied = [{ cost: 1, rate: 0.5 }, { cost: 1, rate: 0.5 }];
    expect(paretoFrontier(tied, (c) => c.cost, (c) => c.rate)).toHaveLength(2);
  });
});

describe('pairedDifference', () => {
  it('centres on (wins - losses) / n with a normal-approximation interval', () => {
    const { difference, low, high } = pairedDifference(10, 2, 100);
    expect(difference).toBeCloseTo(0.08, 12);
    const se = Math.sqrt(12 - 64 / 100) / 100;
    expect(low).toBeCloseTo(0.08 - 1.96 * se, 12);
    expect(high).toBeCloseTo(0.08 + 1.96 * se, 12);
  });

  it('is a point at zero when every pair agrees', () => {
    expect(pairedDifference(0, 0, 50)).toEqual({ difference: 0, low: 0, high: 0 });
  });
});
