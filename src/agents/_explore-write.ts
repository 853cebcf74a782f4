import type { LlmClient } from '../llm/index.ts';
import { explorerSystemPrompt, explorerUserPrompt, systemPrompt, userPrompt } from './_bash-prompt.ts';
import { nativeTools, shellLoop } from './_bash.ts';
import { Episode } from './_episode.ts';
import type { AgentInput, AgentResult } from './_types.ts';

/** What the writer is shown of the explorer's hand-over, at most. */
const MAX_NOTES_CHARS = 6_000;

/**
 * Two configs, one attempt: the explorer's episode reads the repository (its changes are undone)
 * and submits locations and notes; the writer's episode starts from them and submits the fix.
 * Both share the attempt's budget and wall time; every call is recorded under its role.
 */
export async function runExploreThenWrite(input: AgentInput, explorer: LlmClient, writer: LlmClient): Promise<AgentResult> {
  const episode = new Episode(input);
  const { limits } = episode;
  const { instance, workspace } = input;
  const prompt = (native: boolean) => ({ nativeTools: native, commandTimeoutS: limits.commandTimeoutMs / 1000, maxOutputChars: limits.maxOutputChars });

  episode.note(`explorer episode: config '${explorer.configName}' (${explorer.model}), read-only, at most ${limits.explorerMaxSteps} steps`);
  const explorerNative = nativeTools(input.settings, explorer);
  const explored = await shellLoop(episode, {
    role: 'explorer', client: explorer, native: explorerNative, maxSteps: limits.explorerMaxSteps,
    system: explorerSystemPrompt(prompt(explorerNative)), user: explorerUserPrompt(instance.problem_statement, workspace.root),
  });
  if (episode.signal.aborted) return episode.finish(episode.stopped() ?? 'wall_time');
  if (explored.exit === 'budget') return episode.finish('budget');
  await undoChanges(episode);

  let notes = explored.submission?.trim() ?? '';
  if (!notes) episode.note(`the explorer handed over nothing (exit ${explored.exit}): the writer starts from the issue alone`);
  if (notes.length > MAX_NOTES_CHARS) notes = `${notes.slice(0, MAX_NOTES_CHARS)}\n[... cut at ${MAX_NOTES_CHARS} characters]`;

  episode.note(`writer episode: config '${writer.configName}' (${writer.model})`);
  const writerNative = nativeTools(input.settings, writer);
  const written = await shellLoop(episode, {
    role: 'writer', client: writer, native: writerNative, maxSteps: limits.maxSteps,
    system: systemPrompt(prompt(writerNative)), user: userPrompt(instance.problem_statement, workspace.root, notes || undefined),
  });
  return episode.finish(written.exit, written);
}

/** The explorer only reads: whatever it wrote is put back to the base before the writer starts. */
async function undoChanges(episode: Episode): Promise<void> {
  const { workspace } = episode;
  const status = await episode.exec('git status --porcelain --untracked-files=all', { timeoutMs: 30_000 });
  if (!status || !status.output.trim()) return;
  const changed = status.output.trim().split('\n').map((line) => line.slice(3)).slice(0, 20);
  await episode.exec(`git reset -q --hard ${workspace.baseCommit} && git clean -qfd`, { timeoutMs: 60_000 });
  episode.note(`the explorer changed files; undone before the writer starts: ${changed.join(', ')}`);
}
