import { relative } from 'node:path';
import type { LlmClient, Message } from '../llm/index.ts';
import type { HostView } from '../sandbox/index.ts';
import { applyDiff, applyReplace, safeTarget } from './_apply.ts';
import { parseAnswer } from './_edits.ts';
import { Episode } from './_episode.ts';
import {
  CHARS_PER_TOKEN, DEFAULT_INPUT_TOKENS, EXPLORER_SYSTEM_PROMPT, explorerChoice, explorerUserPrompt, patchSystemPrompt, patchUserPrompt,
} from './_patch-prompt.ts';
import { rankFiles, repositoryIndex, type RankedFile } from './_rank.ts';
import type { AgentInput, AgentResult } from './_types.ts';

/** Files in the order the explorer chose them, then the rest in lexical order (all of it when the explorer fails). */
async function explore(episode: Episode, explorer: LlmClient, input: AgentInput, ranked: RankedFile[], budgetChars: number): Promise<RankedFile[]> {
  const messages: Message[] = [
    { role: 'system', content: EXPLORER_SYSTEM_PROMPT },
    { role: 'user', content: explorerUserPrompt(input.instance.problem_statement, ranked, episode.limits.maxFiles, budgetChars) },
  ];
  for (const message of messages) episode.record(message, 'explorer');
  const outcome = await episode.call('explorer', explorer, messages);
  if (!outcome.ok) {
    if (outcome.exit === 'model_error') episode.note('the explorer gave no answer: files are chosen by the lexical ranking alone');
    return ranked;
  }
  episode.record({ role: 'assistant', content: outcome.completion.text }, 'explorer');
  const byPath = new Map(ranked.map((file) => [file.path, file]));
  const { chosen, unknown } = explorerChoice(outcome.completion.text, new Set(byPath.keys()), input.workspace.root);
  episode.note(`explorer chose ${chosen.length ? chosen.join(', ') : 'no known file'}${unknown.length ? `; unknown paths ignored: ${unknown.join(', ')}` : ''}`);
  return [...chosen.map((path) => byPath.get(path)!), ...ranked.filter((file) => !chosen.includes(file.path))];
}

/** What one answer's edits did: how many applied, and why the others did not. */
async function applyAnswer(episode: Episode, input: AgentInput, text: string): Promise<{ applied: number; problems: string[]; any: boolean }> {
  const { workspace } = input;
  // Edited on the host: the work tree itself, or a copy of a container's, committed back edit by edit.
  let view = await workspace.checkout();
  const { edits, broken } = parseAnswer(text);
  const problems: string[] = [];
  for (const problem of broken) {
    episode.malformedCount++;
    episode.note(`malformed edit block: ${problem}`);
    problems.push(`a malformed edit block: ${problem}`);
  }
  if (edits.length === 0 && broken.length === 0) {
    episode.malformedCount++;
    episode.note('the answer holds no search/replace block and no diff');
    problems.push('the answer holds no search/replace block and no diff');
  }
  let applied = 0;
  for (const edit of edits) {
    const what = edit.kind === 'replace' ? `search/replace block for ${edit.path}` : 'unified diff';
    const refused = await applyEdit(episode, view, edit).catch((error: unknown) => `it could not be written: ${error instanceof Error ? error.message : String(error)}`);
    // A diff is applied inside the workspace: the host view is read again for the edits after it.
    if (edit.kind === 'diff') view = await workspace.checkout();
    if (episode.signal.aborted) return { applied, problems, any: edits.length > 0 };
    if (refused) {
      episode.malformedCount++;
      episode.note(`${what} not applied: ${refused}`);
      problems.push(`the ${what} was not applied: ${refused}`);
    } else {
      applied++;
      episode.note(`${what} applied`);
    }
  }
  return { applied, problems, any: edits.length > 0 };
}

function repairPrompt(problems: string[], applied: number, format: 'search_replace' | 'udiff'): string {
  return [
    `Some of your edits could not be used:`,
    ...problems.map((problem) => `- ${problem}`),
    '',
    applied > 0 ? `The other ${applied} edit${applied === 1 ? ' was' : 's were'} applied: the files now hold ${applied === 1 ? 'it' : 'them'}; do not send ${applied === 1 ? 'it' : 'them'} again.` : 'No edit was applied.',
    format === 'udiff'
      ? 'Send corrected diffs for the failed edits only; context lines must match the current files exactly.'
      : 'Send corrected search/replace blocks for the failed edits only; each SEARCH part must match the current file exactly.',
  ].join('\n');
}

/**
 * One model call (after an optional explorer call that picks the files): the issue and the most
 * relevant files in, search/replace blocks or a unified diff out, applied to the workspace. An
 * edit that is malformed or does not apply gets up to `max_repair_turns` turns to be fixed, as Aider
 * does. The prompt is sized to the model: its max_input_tokens, configured or known.
 */
export async function runPatchAgent(input: AgentInput, main: LlmClient): Promise<AgentResult> {
  const episode = new Episode(input);
  const { limits } = episode;
  const { workspace, instance } = input;
  const budgetTokens = main.maxInputTokens ?? DEFAULT_INPUT_TOKENS;
  const budgetChars = budgetTokens * CHARS_PER_TOKEN;
  episode.note(`prompt budget: ${budgetTokens} tokens (${main.maxInputTokens === undefined ? 'the model\'s context is unknown: default' : 'from max_input_tokens'})`);
  // Read on the host (the work tree itself, or a copy of a container's) before anything changes it: once per repository content.
  const index = await repositoryIndex(async () => (await workspace.checkout()).dir, input.fresh ? workspace.contentKey : undefined);
  const { files } = index;
  let order = rankFiles(index, instance.problem_statement);

  if (input.clients.explorer) {
    const stop = episode.stopped();
    if (stop) return episode.finish(stop);
    order = await explore(episode, input.clients.explorer, input, order, Math.min(budgetChars, (input.clients.explorer.maxInputTokens ?? DEFAULT_INPUT_TOKENS) * CHARS_PER_TOKEN));
  }

  const system = patchSystemPrompt(limits.editFormat);
  const { prompt, shown } = patchUserPrompt({
    problemStatement: instance.problem_statement, files, order, maxFiles: limits.maxFiles, budgetChars, systemChars: system.length,
  });
  episode.note(`files shown to the model: ${shown.join(', ') || 'none (the budget holds no file)'}`);
  const messages: Message[] = [{ role: 'system', content: system }, { role: 'user', content: prompt }];
  for (const message of messages) episode.record(message);

  let applied = 0;
  for (let turn = 0; ; turn++) {
    const stop = episode.stopped();
    if (stop) return episode.finish(stop);
    const outcome = await episode.call('main', main, messages);
    if (!outcome.ok) return episode.finish(outcome.exit, outcome.error === undefined ? {} : { error: outcome.error });
    const answer: Message = { role: 'assistant', content: outcome.completion.text, ...(outcome.completion.carried ? { carried: outcome.completion.carried } : {}) };
    messages.push(answer);
    episode.record(answer);
    const result = await applyAnswer(episode, input, outcome.completion.text);
    if (episode.signal.aborted) return episode.finish(episode.stopped() ?? 'wall_time');
    applied += result.applied;
    if (result.problems.length === 0) break;
    if (turn >= limits.maxRepairTurns) {
      if (limits.maxRepairTurns > 0) episode.note(`repair turns used up (max_repair_turns ${limits.maxRepairTurns})`);
      break;
    }
    const repair: Message = { role: 'user', content: repairPrompt(result.problems, result.applied, limits.editFormat) };
    messages.push(repair);
    episode.record(repair);
  }
  return episode.finish(applied > 0 ? 'submitted' : 'malformed');
}

/** One edit: a search/replace block written in the host view and committed to the workspace, or a diff applied inside it. */
async function applyEdit(episode: Episode, view: HostView, edit: ReturnType<typeof parseAnswer>['edits'][number]): Promise<string | null> {
  if (edit.kind !== 'replace') return applyDiff(episode, edit.diff, view.dir);
  const refused = await applyReplace(view.dir, episode.workspace.root, edit);
  if (refused) return refused;
  const target = await safeTarget(view.dir, episode.workspace.root, edit.path);
  if ('path' in target) await view.commit([relative(view.dir, target.path)]);
  return null;
}
