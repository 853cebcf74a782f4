import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { costOf, runAgent, type AgentCall } from '../../src/agents/index.ts';
import type { Completion } from '../../src/llm/index.ts';
import { agentSettings, instanceOf, passingFailToPass, runTests, workspaces } from './_fixtures.ts';

let sandbox: Awaited<ReturnType<typeof workspaces>>;
beforeAll(async () => {
  sandbox = await workspaces();
});
afterAll(async () => {
  await sandbox.cleanup();
});

describe('baseline agents', () => {
  it('gold applies the instance patch, and its diff makes the FAIL_TO_PASS tests pass', async () => {
    const instance = instanceOf('benchlab__semverlite-3');
    const result = await runAgent({ instance, workspace: await sandbox.create(instance), settings: agentSettings('gold'), clients: {} });
    expect(result.exit).toBe('baseline');
    expect(result.calls).toEqual([]);
    expect(result.patch).toContain('+++ b/src/range.js');
    const tests = await runTests(sandbox.create, instance, result.patch);
    expect(tests.exitCode).toBe(0);
    expect(passingFailToPass(instance, tests.output)).toHaveLength(instance.FAIL_TO_PASS.length);
  });

  it('empty returns no patch, and the FAIL_TO_PASS tests then fail', async () => {
    const instance = instanceOf('benchlab__semverlite-3');
    const workspace = await sandbox.create(instance);
    const result = await runAgent({ instance, workspace, settings: agentSettings('empty'), clients: {} });
    expect(result).toMatchObject({ patch: '', exit: 'baseline', malformedCount: 0, calls: [] });
    const tests = await runTests(sandbox.create, instance, result.patch);
    expect(tests.exitCode).not.toBe(0);
    expect(passingFailToPass(instance, tests.output)).toEqual([]);
  });

  it('gold throws when the instance patch does not apply: a broken task is no model failure', async () => {
    const instance = { ...instanceOf('benchlab__semverlite-3'), patch: 'diff --git a/nope.js b/nope.js\n--- a/nope.js\n+++ b/nope.js\n@@ -1 +1 @@\n-a\n+b\n' };
    const workspace = await sandbox.create(instance);
    await expect(runAgent({ instance, workspace, settings: agentSettings('gold'), clients: {} })).rejects.toThrow(/gold patch of benchlab__semverlite-3 does not apply/);
  });

  it('a model agent without an LLM client is a configuration error', async () => {
    const instance = instanceOf('benchlab__semverlite-3');
    const workspace = await sandbox.create(instance);
    await expect(runAgent({ instance, workspace, settings: agentSettings('bash'), clients: {} })).rejects.toThrow(/needs an LLM config/);
  });
});

describe('costOf', () => {
  const call = (cost: number | null, role: AgentCall['role'] = 'main'): AgentCall => ({ role, configName: role, completion: { cost } as Completion });

  it('sums the known costs of successful calls and ignores failed ones', () => {
    const failed: AgentCall = { role: 'main', configName: 'main', error: { errorClass: 'auth', message: 'no', tries: [] } };
    expect(costOf([call(0.25), call(0.5, 'explorer'), failed])).toEqual({ usd: 0.75, unknown: false });
  });

  it('flags an unknown cost and keeps the known part as a lower bound, never a zero for nothing known', () => {
    expect(costOf([call(0.25), call(null)])).toEqual({ usd: 0.25, unknown: true });
    expect(costOf([call(null)])).toEqual({ usd: null, unknown: true });
    expect(costOf([])).toEqual({ usd: 0, unknown: false });
  });
});
