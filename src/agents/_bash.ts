import type { LlmClient, Message, ToolCall } from '../llm/index.ts';
import {
  BASH_TOOL, bashBlocks, formatErrorMessage, isSubmitCommand, observation, submittedByOutput, systemPrompt, toolCommand, truncateOutput, userPrompt,
} from './_bash-prompt.ts';
import { Episode } from './_episode.ts';
import type { AgentInput, AgentResult } from './_types.ts';

/** What one answer asks for: a command (from a tool call or a fenced block), or a format error. */
type Action =
  | { command: string; toolCallId?: string }
  | { formatError: string; toolCallIds: string[] };

function actionOf(text: string, toolCalls: ToolCall[]): Action {
  if (toolCalls.length > 0) {
    const ids = toolCalls.map((call) => call.id);
    if (toolCalls.length > 1) return { formatError: `made ${toolCalls.length} tool calls`, toolCallIds: ids };
    const command = toolCommand(toolCalls[0]!);
    if (command === null) return { formatError: `called \`${toolCalls[0]!.name}\` without a valid \`command\` argument`, toolCallIds: ids };
    return { command, toolCallId: toolCalls[0]!.id };
  }
  const blocks = bashBlocks(text);
  if (blocks.length === 1 && blocks[0]) return { command: blocks[0] };
  const found = blocks.length === 0 ? 'had no ```bash block' : blocks.length === 1 ? 'had an empty ```bash block' : `had ${blocks.length} \`\`\`bash blocks`;
  return { formatError: found, toolCallIds: [] };
}

/** The mini-swe-agent loop: one command per turn, each in a fresh process, until a submit or a limit. */
export async function runBashAgent(input: AgentInput, client: LlmClient): Promise<AgentResult> {
  const episode = new Episode(input);
  const { limits } = episode;
  const native = input.nativeToolCalling === true;
  const timeoutS = limits.commandTimeoutMs / 1000;
  const messages: Message[] = [
    { role: 'system', content: systemPrompt({ nativeTools: native, commandTimeoutS: timeoutS, maxOutputChars: limits.maxOutputChars }) },
    { role: 'user', content: userPrompt(input.instance.problem_statement, input.workspace.root) },
  ];
  for (const message of messages) episode.message(message.role, message.content);
  const reply = (content: string, toolCallIds: string[]) => {
    // Every tool call must be answered by its own tool message before the next request.
    const replies: Message[] = toolCallIds.length > 0
      ? toolCallIds.map((toolCallId) => ({ role: 'tool', content, toolCallId }))
      : [{ role: 'user', content }];
    messages.push(...replies);
    for (const message of replies) episode.message(message.role, message.content);
  };

  let steps = 0;
  let formatErrorsInRow = 0;
  for (;;) {
    const stop = episode.stopped();
    if (stop) return episode.finish(stop);
    if (steps >= limits.maxSteps) {
      episode.note(`step limit reached (max_steps ${limits.maxSteps})`);
      return episode.finish('max_steps');
    }
    steps++;
    const outcome = await episode.call('main', client, messages, native ? [BASH_TOOL] : undefined);
    if (!outcome.ok) return episode.finish(outcome.exit, outcome.error);
    const { text, toolCalls } = outcome.completion;
    messages.push({ role: 'assistant', content: text, ...(toolCalls.length > 0 ? { toolCalls } : {}) });
    episode.message('assistant', [text, ...toolCalls.map((call) => `[tool call ${call.name}: ${call.arguments}]`)].filter(Boolean).join('\n'));

    const action = actionOf(text, toolCalls);
    if ('formatError' in action) {
      episode.malformedCount++;
      formatErrorsInRow++;
      episode.note(`format error ${formatErrorsInRow} in a row: the answer ${action.formatError}`);
      if (formatErrorsInRow >= limits.maxFormatErrors) return episode.finish('format_errors');
      reply(formatErrorMessage(action.formatError, native), action.toolCallIds);
      continue;
    }
    formatErrorsInRow = 0;
    if (isSubmitCommand(action.command)) return episode.finish('submitted');

    const result = await episode.exec(action.command, { timeoutMs: limits.commandTimeoutMs });
    if (!result) return episode.finish(episode.stopped() ?? 'wall_time');
    episode.trajectory.push({
      kind: 'command', command: action.command, exitCode: result.exitCode, timedOut: result.timedOut, output: truncateOutput(result.output, limits.maxOutputChars), durationMs: result.durationMs,
    });
    if (submittedByOutput(result.output)) return episode.finish('submitted');
    reply(observation(result, timeoutS, limits.maxOutputChars), action.toolCallId ? [action.toolCallId] : []);
  }
}
