import { describe, expect, test } from 'vitest';
import { CostBudget } from '../../src/runner/_budget.ts';

const job = (instanceId: string, configName = 'gpt3') => ({ runId: 'r', instanceId, configName, repeat: 0 });
const settledSoon = async <T>(promise: Promise<T>) => Promise.race([promise, new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), 20))]);

describe('the --max-cost budget', () => {
  test('records from a queue (no episodeEnded here) teach a config\'s cost, an unpriced one\'s as 0; a record of unknown cost keeps its known part', async () => {
    const budget = new CostBudget(1);
    expect(await budget.reserve(job('a', 'local'))).toBe(true);
    budget.recorded(job('a', 'local'), null);
    expect(budget.expected('local')).toBe(0);
    // Learnt: unpriced attempts no longer go one at a time.
    expect(await settledSoon(Promise.all([budget.reserve(job('b', 'local')), budget.reserve(job('c', 'local'))]))).toEqual([true, true]);

    const priced = new CostBudget(1);
    expect(await priced.reserve(job('d'))).toBe(true);
    priced.episodeEnded(job('d'), 0.3);
    // Its record's cost is null (a call of unknown price besides the known 0.3): the 0.3 stays spent.
    priced.recorded(job('d'), null);
    expect(priced.committed()).toBeCloseTo(0.3);
  });

  test('with no cap every attempt starts at once', async () => {
    const budget = new CostBudget(undefined);
    expect(await Promise.all([budget.reserve(job('a')), budget.reserve(job('b'))])).toEqual([true, true]);
  });

  test('with nothing to go by, attempts start one at a time; then each reserves its config\'s mean cost', async () => {
    const budget = new CostBudget(0.05);
    expect(await budget.reserve(job('a'))).toBe(true);
    const second = budget.reserve(job('b'));
    expect(await settledSoon(second)).toBe('waiting');
    budget.episodeEnded(job('a'), 0.02);
    expect(await second).toBe(true);
    // Spent 0.02, reserved 0.02 for b: a third attempt at 0.02 would end at 0.06, past the cap, so it waits for b.
    const third = budget.reserve(job('c'));
    expect(await settledSoon(third)).toBe('waiting');
    budget.episodeEnded(job('b'), 0.01);
    // Now 0.03 spent, mean 0.015: 0.045 fits.
    expect(await third).toBe(true);
    budget.episodeEnded(job('c'), 0.015);
    expect(await budget.reserve(job('d'))).toBe(false);
    expect(budget.refused).toBe(true);
  });

  test('a config with no finished episode is expected to cost as much as the dearest one', async () => {
    const budget = new CostBudget(0.115, [{ configName: 'cheap', costUsd: 0.01 }, { configName: 'dear', costUsd: 0.05 }]);
    expect(budget.expected('new')).toBeCloseTo(0.05, 9);
    expect(budget.committed()).toBeCloseTo(0.06, 9);
    expect(await budget.reserve(job('a', 'cheap'))).toBe(true);
    // 0.06 + 0.01 reserved + 0.05 expected = 0.12 > 0.115: waits until the cheap one is out of the way.
    const waiting = budget.reserve(job('b', 'new'));
    expect(await settledSoon(waiting)).toBe('waiting');
    budget.release(job('a', 'cheap'));
    expect(await waiting).toBe(true);
  });

  test('Ctrl-C ends a wait for room at once', async () => {
    const budget = new CostBudget(1);
    const controller = new AbortController();
    expect(await budget.reserve(job('a'), controller.signal)).toBe(true);
    const waiting = budget.reserve(job('b'), controller.signal);
    controller.abort();
    expect(await waiting).toBe(false);
    expect(budget.refused).toBe(false);
  });
});
