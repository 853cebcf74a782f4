import type { Grade } from '../grading/index.ts';
import type { AttemptRecord, Outcome, TestResultRecord } from '../store/index.ts';
import type { Instance, TaskSet } from '../tasks/index.ts';

/** Per-test rows for the store: every listed test (missing ones as MISSING) plus any other parsed test. */
export function testRows(instance: Instance, grade: Grade): TestResultRecord[] {
  if (!grade.testsStatus) return [];
  const rows = new Map<string, TestResultRecord>();
  for (const [list, ids] of [['FAIL_TO_PASS', instance.FAIL_TO_PASS], ['PASS_TO_PASS', instance.PASS_TO_PASS]] as const) {
    for (const id of ids) rows.set(id, { testId: id, status: grade.matches?.[id]?.status ?? grade.tests[id] ?? 'MISSING', expectation: list });
  }
  for (const [id, status] of Object.entries(grade.tests)) if (!rows.has(id)) rows.set(id, { testId: id, status, expectation: null });
  return [...rows.values()];
}

/** The grade's share of an attempt record; the caller adds the agent's share. */
export function gradeFields(instance: Instance, grade: Grade, outcome: Outcome = grade.outcome) {
  return {
    instanceId: instance.instance_id,
    instanceHash: instance.contentHash,
    outcome,
    resolution: grade.resolution,
    resolved: outcome === 'resolved',
    patchHash: grade.patchHash,
    grade: { ...grade, log: undefined },
    tests: testRows(instance, grade),
  } satisfies Partial<AttemptRecord>;
}

export function emptyUsage() {
  return { costUsd: 0 as number | null, costUnknown: false, tokensIn: 0, tokensOut: 0, tokensCacheRead: 0, tokensCacheWrite: 0, calls: 0, retries: 0 };
}

export function newRunId(): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${Math.random().toString(36).slice(2, 6)}`;
}

/** The instances of a run as the store keeps them: content hash and fields, without local paths. */
export function instanceRows(taskSet: TaskSet, instances: Instance[]) {
  return instances.map((i) => ({ instanceId: i.instance_id, contentHash: i.contentHash, suite: taskSet.name, repo: i.repo, baseCommit: i.base_commit, json: { ...i, source: undefined } }));
}
