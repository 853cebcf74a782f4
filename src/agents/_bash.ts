import type { AgentSettings } from '../config/index.ts';
import type { LlmClient, Message, ToolCall } from '../llm/index.ts';
import { BASH_TOOL, bashBlocks, formatErrorMessage, observation, systemPrompt, toolCommand, truncateOutput, userPrompt } from './_bash-prompt.ts';
import { Episode } from './_episode.ts';
import { submissionOf } from './_submission.ts';
import type { AgentCall, AgentExit, AgentInput, AgentResult } from './_types.ts';

/** What one answer asks for: commands in order (tool calls or one fenced block), or a format error. */
type Action =
  | { commands: { command: string; toolCallId?: string }[] }
  | { formatError: string; toolCallIds: string[] };

function actionOf(text: string, toolCalls: ToolCall[], native: boolean): Action {
  if (toolCalls.length > 0) {
    const ids = toolCalls.map((call) => call.id);
    const commands = toolCalls.map((call) => ({ command: toolCommand(call), toolCallId: call.id }));
    const bad = toolCalls.find((_, i) => commands[i]!.command === null);
    if (bad) return { formatError: `called \`${bad.name}\` without a valid \`command\` argument`, toolCallIds: ids };
    return { commands: commands as { command: string; toolCallId: string }[] };
  }
  if (native) return { formatError: 'made no tool call', toolCallIds: [] };
  const blocks = bashBlocks(text);
  if (blocks.length === 1 && blocks[0]) return { commands: [{ command: blocks[0] }] };
  const found = blocks.length === 0 ? 'had no ```bash block' : blocks.length === 1 ? 'had an empty ```bash block' : `had ${blocks.length} \`\`\`bash blocks`;
  return { formatError: found, toolCallIds: [] };
}

/** `tool_mode` when the agent's section sets it, else text when the config says native_tool_calling = false, else native (mini-swe-agent v2). */
export function nativeTools(settings: Pick<AgentSettings, 'tool_mode'>, client: LlmClient): boolean {
  if (settings.tool_mode) return settings.tool_mode === 'native';
  return client.nativeToolCalling !== false;
}

export type ShellRun = { role: AgentCall['role']; client: LlmClient; native: boolean; maxSteps: number; system: string; user: string };

/**
 * The mini-swe-agent loop, for one role: a linear history; each command a fresh process; several
 * tool calls per answer run in order; a command whose output starts with the submission line ends
 * the loop with the rest of that output as the submission; limits end it with nothing submitted.
 */
export async function shellLoop(episode: Episode, run: ShellRun): Promise<{ exit: AgentExit; submission?: string; error?: string }> {
  const { limits } = episode;
  const timeoutS = limits.commandTimeoutMs / 1000;
  const messages: Message[] = [{ role: 'system', content: run.system }, { role: 'user', content: run.user }];
  for (const message of messages) episode.record(message, run.role);
  const push = (...added: Message[]) => {
    messages.push(...added);
    for (const message of added) episode.record(message, run.role);
  };

  let steps = 0;
  let formatErrorsInRow = 0;
  for (;;) {
    const stop = episode.stopped();
    if (stop) return { exit: stop };
    if (steps >= run.maxSteps) {
      episode.note(`step limit reached (${run.role === 'explorer' ? 'explorer_max_steps' : 'max_steps'} ${run.maxSteps})`);
      return { exit: 'max_steps' };
    }
    steps++;
    const outcome = await episode.call(run.role, run.client, messages, run.native ? [BASH_TOOL] : undefined);
    if (!outcome.ok) return { exit: outcome.exit, ...(outcome.error ? { error: outcome.error } : {}) };
    const { text, toolCalls, carried } = outcome.completion;
    push({ role: 'assistant', content: text, ...(toolCalls.length > 0 ? { toolCalls } : {}), ...(carried ? { carried } : {}) });

    const action = actionOf(text, toolCalls, run.native);
    if ('formatError' in action) {
      episode.malformedCount++;
      formatErrorsInRow++;
      episode.note(`format error ${formatErrorsInRow} in a row: the answer ${action.formatError}`);
      if (formatErrorsInRow >= limits.maxFormatErrors) return { exit: 'format_errors' };
      const content = formatErrorMessage(action.formatError, run.native);
      // Every tool call must be answered by its own tool message before the next request.
      if (action.toolCallIds.length > 0) push(...action.toolCallIds.map((toolCallId): Message => ({ role: 'tool', content, toolCallId })));
      else push({ role: 'user', content });
      continue;
    }
    formatErrorsInRow = 0;
    for (const { command, toolCallId } of action.commands) {
      const result = await episode.exec(command, { timeoutMs: limits.commandTimeoutMs });
      if (!result) return { exit: episode.stopped() ?? 'wall_time' };
      episode.trajectory.push({
        kind: 'command', command, exitCode: result.exitCode, timedOut: result.timedOut, output: truncateOutput(result.output, limits.maxOutputChars), durationMs: result.durationMs,
      });
      const submission = result.timedOut ? null : submissionOf(result.output, result.exitCode);
      if (submission !== null) return { exit: 'submitted', submission };
      const content = observation(result, timeoutS, limits.maxOutputChars);
      push(toolCallId ? { role: 'tool', content, toolCallId } : { role: 'user', content });
    }
  }
}

/** mini-swe-agent v2 on one config: the fix is what the model submits (or, under autosubmit, the source diff). */
export async function runBashAgent(input: AgentInput, client: LlmClient): Promise<AgentResult> {
  const episode = new Episode(input);
  const { limits } = episode;
  const native = nativeTools(input.settings, client);
  const prompt = { nativeTools: native, commandTimeoutS: limits.commandTimeoutMs / 1000, maxOutputChars: limits.maxOutputChars };
  const ended = await shellLoop(episode, {
    role: 'main', client, native, maxSteps: limits.maxSteps,
    system: systemPrompt(prompt), user: userPrompt(input.instance.problem_statement, input.workspace.root),
  });
  return episode.finish(ended.exit, ended);
}
