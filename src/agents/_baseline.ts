import type { AgentInput, AgentResult } from './_types.ts';

const APPLY_TIMEOUT_MS = 60_000;

/** `gold` applies the instance's own fix, `empty` changes nothing: the bounds every task set is checked against. */
export async function runBaseline(input: AgentInput, kind: 'gold' | 'empty'): Promise<AgentResult> {
  const result: AgentResult = { patch: '', submit: 'autosubmit', exit: 'baseline', malformedCount: 0, calls: [], trajectory: [] };
  if (kind === 'empty') return result;
  const command = 'git apply -';
  const applied = await input.workspace.exec(command, { timeoutMs: APPLY_TIMEOUT_MS, stdin: input.instance.patch });
  result.trajectory.push({
    kind: 'command', command, exitCode: applied.exitCode, timedOut: applied.timedOut, output: applied.output, durationMs: applied.durationMs,
  });
  if (applied.exitCode !== 0) {
    // A gold patch that does not apply is a broken task, not a model's failure: say so loudly.
    throw new Error(`The gold patch of ${input.instance.instance_id} does not apply to its base (git apply exit ${applied.exitCode}): ${applied.output.trim()}`);
  }
  const diff = await input.workspace.diff();
  if (!diff.ok) throw new Error(`The gold patch of ${input.instance.instance_id} leaves a workspace too large to diff: ${diff.message}`);
  result.patch = diff.patch;
  return result;
}
