import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { priceOf } from '../../src/llm/index.ts';
import { planArms, planRun } from '../../src/runner/index.ts';
import { Store } from '../../src/store/index.ts';
import { loadSuite } from '../../src/tasks/index.ts';
import { sampleAttempt } from '../helpers/attempts.ts';

describe('the --dry-run cost range', () => {
  test('prices a recorded attempt call by call, as it was billed: forty 20k-token calls are not one 800k-token request', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-estimate-'));
    // A model whose price table charges more for a request past 200k input tokens.
    writeFileSync(join(dir, 'config.toml'), '[llm.sonnet]\nmodel = "anthropic/claude-sonnet-4-5"\napi_key = "sk-ant-estimate"\n');
    const arms = planArms(loadConfig({ path: join(dir, 'config.toml') }), { configs: ['sonnet'], agent: 'bash' });
    const store = Store.open(join(dir, 'bench.db'));
    store.createRun({ id: 'before', createdAt: new Date().toISOString(), status: 'finished', command: 'run', harnessVersion: '0.1.0', options: {} });
    const call = (seq: number) => ({ ...sampleAttempt().llmCalls[0]!, seq, configName: 'sonnet', tokensIn: 20_000, tokensOut: 500, tokensCacheRead: 0, tokensCacheWrite: 0 });
    const calls = Array.from({ length: 40 }, (_, seq) => call(seq));
    store.recordAttempt({
      ...sampleAttempt({ runId: 'before', configName: 'sonnet', agent: 'bash' }),
      tokensIn: 800_000, tokensOut: 20_000, tokensCacheRead: 0, tokensCacheWrite: 0, calls: 40, llmCalls: calls,
    });
    const instance = loadSuite().instances[0]!;
    const plan = planRun({ store, runId: 'next', instances: [instance], arms, runs: 1 });
    store.close();
    const settings = arms[0]!.llm!.settings;
    const perCall = 40 * priceOf(settings, { input: 20_000, output: 500, cacheRead: 0, cacheWrite: 0 })!;
    const asOne = priceOf(settings, { input: 800_000, output: 20_000, cacheRead: 0, cacheWrite: 0 })!;
    expect(asOne).toBeGreaterThan(perCall * 1.5);
    expect(plan.configs[0]).toMatchObject({ config: 'sonnet', attempts: 1 });
    expect(plan.configs[0]!.low).toBeCloseTo(perCall);
    expect(plan.configs[0]!.high).toBeCloseTo(perCall);
  });
});
