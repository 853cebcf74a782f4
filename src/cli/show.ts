import { defineCommand, printJson } from './_command.ts';
import { withStore } from './_session.ts';
import { DB_OPTION, JSON_OPTION } from './_options.ts';
import { UserError } from '../errors.ts';
import { roleCostCell, roleCostsOfCalls } from '../report/index.ts';

export default defineCommand(
  {
    name: 'show',
    summary: 'Show one attempt: outcome, patch, per-test results, LLM calls and the full trajectory.',
    usage: 'bench show ATTEMPT_ID [--json] | bench show RUN_ID INSTANCE CONFIG [--repeat N]',
    positionals: { min: 1, max: 3, names: 'ATTEMPT_ID, or RUN_ID INSTANCE CONFIG' },
    options: {
      repeat: { type: 'integer', min: 0, default: 0, value: 'N', description: 'Which repeat, with RUN_ID INSTANCE CONFIG' },
      ...DB_OPTION,
      ...JSON_OPTION,
    },
  },
  async ({ values, positionals }) => {
    return withStore(values.db, async (store) => {
      const attempt = positionals.length === 1
        ? store.attempt(Number(positionals[0]))
        : store.attemptFor(positionals[0]!, positionals[1] ?? '', positionals[2] ?? '', values.repeat);
      if (!attempt) throw new UserError(`No attempt ${positionals.join(' ')} in ${store.path}. Name an attempt by its id, or as \`bench show RUN_ID INSTANCE CONFIG\` (run ids: \`bench report\`).`);
      const costByRole = roleCostsOfCalls(attempt.llmCalls);
      if (values.json) {
        printJson({ ...attempt, costByRole });
        return 0;
      }
      const cost = attempt.costUnknown ? 'unknown' : `$${(attempt.costUsd ?? 0).toFixed(6)}`;
      const agentSettings = (store.getRun(attempt.runId)?.options.agents as Record<string, { submit?: string }> | undefined)?.[attempt.configName];
      const submit = agentSettings?.submit;
      const lines = [
        `attempt ${attempt.id}: ${attempt.instanceId} with ${attempt.configName} (agent ${attempt.agent}, repeat ${attempt.repeat}, run ${attempt.runId})`,
        `outcome ${attempt.outcome}${attempt.resolution ? ` (${attempt.resolution})` : ''}; agent stopped: ${attempt.exitReason ?? '-'}; malformed answers: ${attempt.malformedCount}`,
        ...(submit ? [`submission: ${submit} (${submit === 'explicit' ? 'only what the model submitted is graded; nothing on a limit, as mini-swe-agent v2' : 'the source diff is graded on any exit, as SWE-agent'})`] : []),
        `cost ${cost}; tokens in ${attempt.tokensIn}, out ${attempt.tokensOut}, cache read ${attempt.tokensCacheRead}, cache write ${attempt.tokensCacheWrite}; ${attempt.calls} calls, ${attempt.retries} retries`,
        ...(costByRole.length > 0 ? [`cost by role: ${roleCostCell({ costByRole })}`] : []),
        `time ${(attempt.durationMs / 1000).toFixed(1)} s (agent ${(attempt.agentMs / 1000).toFixed(1)} s, grading ${(attempt.gradeMs / 1000).toFixed(1)} s)`,
        ...(attempt.error ? [`error: ${attempt.error}`] : []),
        ...(attempt.tamperReason ? [`tampered: ${attempt.tamperReason}`] : []),
        ...(attempt.flags.length ? [`patch flags: ${attempt.flags.join(', ')}`] : []),
        '',
        '## Tests',
        ...attempt.tests.map((t) => `  ${t.status.padEnd(7)} ${t.expectation ?? '      '.padEnd(12)} ${t.testId}${matchNote(attempt.grade, t.testId)}`),
        '',
        '## LLM calls',
        ...attempt.llmCalls.map((c) => `  #${c.seq} ${c.role} ${c.configName} ${c.model ?? ''} ${c.status}${c.errorClass ? ` ${c.errorClass}` : ''} in ${c.tokensIn} out ${c.tokensOut} cost ${c.costUsd === null ? 'unknown' : `$${c.costUsd.toFixed(6)}`} ${Math.round(c.latencyMs)} ms, ${c.retries} retries${c.cached ? ' (cached)' : ''}`),
        '',
        '## Patch',
        attempt.patch ?? '(empty)',
        '',
        '## Trajectory',
        ...trajectoryLines(attempt.trajectory),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      return 0;
    }, { readonly: true });
  },
);

function trajectoryLines(trajectory: unknown): string[] {
  if (!Array.isArray(trajectory)) return ['(none)'];
  return trajectory.flatMap((step: Record<string, unknown>) => {
    if (step.kind === 'message') return [`--- ${String(step.role)}`, String(step.content)];
    if (step.kind === 'command') return [`$ ${String(step.command)}   (exit ${String(step.exitCode)}${step.timedOut ? ', timed out' : ''})`, String(step.output)];
    return [`# ${String(step.text)}`];
  });
}

/** How a listed name found its parsed tests, when it was not by our own id (`grading/_match.ts`). */
function matchNote(grade: unknown, name: string): string {
  const matches = (grade as { matches?: Record<string, { rule: string; tests: string[]; note?: string }> } | undefined)?.matches;
  const match = matches?.[name];
  if (!match || (match.rule === 'id' && match.tests.length === 1)) return '';
  if (match.rule === 'none') return '   (matched no parsed test)';
  const tests = match.tests.length === 1 ? match.tests[0] : `${match.tests.length} tests: ${match.tests.join(', ')}`;
  return `   (by ${match.rule}: ${tests}${match.note ? `; ${match.note}` : ''})`;
}
