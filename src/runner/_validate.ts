import pLimit from 'p-limit';
import type { Instance } from '../tasks/index.ts';
import { nearestTestNames, testNameIn, type Grade, type Grader, type TestNaming } from '../grading/index.ts';

export type Validation = {
  instanceId: string;
  ok: boolean;
  problems: string[];
  /** With derive: the lists computed from the runs before and after the gold patch. */
  derived?: { FAIL_TO_PASS: string[]; PASS_TO_PASS: string[] };
};

const passes = (status: string | undefined) => status === 'PASSED' || status === 'XFAIL';
/** A listed name's status in a grade, matched as grading matches it (a runner name, a cut pytest id...). */
const statusIn = (grade: Grade, name: string) => grade.matches?.[name]?.status ?? grade.tests[name];

/**
 * Proves an instance is well-formed: on the base (with the test patch) every FAIL_TO_PASS test
 * fails and every PASS_TO_PASS test passes, and the gold patch resolves it. With `derive`, the
 * lists are computed the way SWE-bench built them: from the runs before and after the gold patch.
 */
export async function validateInstances(
  instances: Instance[],
  grader: Grader,
  options: { jobs: number; derive?: boolean; naming?: TestNaming; signal?: AbortSignal },
): Promise<Validation[]> {
  const limit = pLimit(options.jobs);
  return Promise.all(
    instances.map((instance) =>
      limit(async (): Promise<Validation> => {
        if (options.signal?.aborted) return { instanceId: instance.instance_id, ok: false, problems: ['not run: interrupted'] };
        const problems: string[] = [];
        const before = await grader.grade(instance, null, { runWithoutPatch: true });
        const gold = await grader.grade(instance, instance.patch);
        if (before.outcome === 'infra_error' || before.outcome === 'timeout') problems.push(`base run: ${before.outcome}: ${before.error ?? ''}`.trim());
        if (gold.outcome !== 'resolved') {
          problems.push(`gold patch: ${gold.outcome}${gold.untrustworthyReason ? ` (${gold.untrustworthyReason})` : ''}${gold.error ? `: ${gold.error.slice(0, 300)}` : ''}`);
          const failing = gold.testsStatus ? [...gold.testsStatus.FAIL_TO_PASS.failure, ...gold.testsStatus.PASS_TO_PASS.failure] : [];
          if (failing.length) problems.push(`failing with gold: ${failing.slice(0, 5).join(', ')}${failing.length > 5 ? ', ...' : ''}`);
        }
        const passingBefore = instance.FAIL_TO_PASS.filter((id) => passes(statusIn(before, id)));
        if (passingBefore.length) problems.push(`FAIL_TO_PASS tests already pass on the base: ${passingBefore.join(', ')}`);
        const failingBefore = instance.PASS_TO_PASS.filter((id) => !passes(statusIn(before, id)) && statusIn(before, id) !== 'SKIPPED');
        if (failingBefore.length) problems.push(`PASS_TO_PASS tests fail on the base: ${failingBefore.join(', ')}`);
        if (before.outcome === 'resolved') problems.push('the empty patch resolves it');
        const unmatched = unmatchedNames(instance, gold);
        if (unmatched) problems.push(unmatched);
        const result: Validation = { instanceId: instance.instance_id, ok: problems.length === 0, problems };
        if (options.derive) {
          const after = gold.tests;
          const ids = Object.keys(after).sort();
          const named = (list: string[]) => [...new Set(list.map((id) => testNameIn(options.naming ?? 'bench', id, gold.names?.[id])))];
          result.derived = {
            FAIL_TO_PASS: named(ids.filter((id) => passes(after[id]) && !passes(before.tests[id]))),
            PASS_TO_PASS: named(ids.filter((id) => passes(after[id]) && passes(before.tests[id]))),
          };
        }
        return result;
      }),
    ),
  );
}

/**
 * When not one listed name matches a test the gold run reported, the names are in a naming the
 * parser does not give (or the wrong parser is set): say so, with the parsed names nearest the first.
 */
function unmatchedNames(instance: Instance, gold: Grade): string | undefined {
  const listed = [...instance.FAIL_TO_PASS, ...instance.PASS_TO_PASS];
  if (!gold.matches || listed.length === 0 || Object.keys(gold.tests).length === 0) return undefined;
  if (listed.some((name) => gold.matches![name] && gold.matches![name]!.rule !== 'none')) return undefined;
  const nearest = nearestTestNames(listed[0]!, { tests: Object.keys(gold.tests), names: Object.values(gold.names ?? {}) });
  return `none of the ${listed.length} listed test names matches a test the gold run reported (log_parser ${instance.log_parser}); ` +
    `nearest parsed names to \`${listed[0]}\`: ${nearest.map((name) => `\`${name}\``).join(', ')}. ` +
    'Write FAIL_TO_PASS / PASS_TO_PASS as the runner names its tests (`bench tasks validate --derive` prints them), or set the log_parser that reads this output.';
}
