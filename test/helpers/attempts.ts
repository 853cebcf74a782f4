import type { AttemptRecord } from '../../src/store/index.ts';

/** A complete attempt record with plausible values, for store and report tests. */
export function sampleAttempt(overrides: Partial<AttemptRecord> = {}): AttemptRecord {
  const now = new Date('2026-01-01T00:00:00Z').toISOString();
  return {
    runId: 'run-1', instanceId: 'benchlab__csvkit-1', instanceHash: 'h1', configName: 'gpt3', repeat: 0, agent: 'bash',
    outcome: 'resolved', resolution: 'FULL', resolved: true, patch: 'diff --git a/x b/x\n', patchHash: 'p1', error: null, exitReason: 'submitted',
    malformedCount: 0, costUsd: 0.0125, costUnknown: false, tokensIn: 1200, tokensOut: 300, tokensCacheRead: 100, tokensCacheWrite: 0,
    calls: 2, retries: 1, infraRetries: 0, startedAt: now, finishedAt: now, durationMs: 1500, agentMs: 1000, gradeMs: 500,
    grade: { resolved: true }, trajectory: [{ role: 'user', content: 'fix it' }],
    tests: [{ testId: 'test/a.test.js::a::works', status: 'PASSED', expectation: 'FAIL_TO_PASS' }],
    llmCalls: [{ seq: 0, configName: 'gpt3', role: 'main', provider: 'openai', model: 'gpt-3.5-turbo', status: 'ok', tokensIn: 1200, tokensOut: 300,
      tokensCacheRead: 100, tokensCacheWrite: 0, costUsd: 0.0125, latencyMs: 800, retries: 1, tries: [{ status: 'error', errorClass: 'rate_limit', waitMs: 15000 }, { status: 'ok' }], cached: false }],
    ...overrides,
  };
}
