import type { ToolCall, ToolSpec } from '../llm/index.ts';
import type { ExecResult } from '../sandbox/index.ts';

export const SUBMIT_SENTINEL = 'BENCH_SUBMIT';

export const BASH_TOOL: ToolSpec = {
  name: 'bash',
  description: 'Run one shell command in a fresh bash process at the repository root; returns its exit code and output.',
  parameters: {
    type: 'object',
    properties: { command: { type: 'string', description: 'The shell command to run.' } },
    required: ['command'],
  },
};

export function systemPrompt(options: { nativeTools: boolean; commandTimeoutS: number; maxOutputChars: number }): string {
  const how = options.nativeTools
    ? 'Call the `bash` tool exactly once in each answer, with one shell command.'
    : 'Each answer must contain exactly ONE shell command, in a single ```bash fenced block, after a short explanation of your reasoning.';
  return [
    'You are a software engineer fixing an issue in a repository. You work by running shell commands, one per turn, and reading their output.',
    '',
    how,
    'Each command runs in a fresh bash process whose working directory is the repository root: `cd` and variables do not carry over to the next command, so chain commands with && when needed.',
    'There is no interactive terminal and no network: never open editors or pagers. Edit files with sed, `cat > file <<\'EOF\'`, or a `python3 - <<\'EOF\'` script.',
    `A command is killed after ${options.commandTimeoutS} s; output longer than ${options.maxOutputChars} characters is cut in the middle, so prefer head, tail and grep.`,
    '',
    'Work like this: find the code involved, reproduce the problem, fix the source code, check the fix, then submit.',
    'Change only what the issue asks for and leave the existing tests as they are. Do not commit: your changes to the files are the result.',
    'When you are done, submit by running this command alone (nothing else in that answer):',
    '```bash',
    `echo ${SUBMIT_SENTINEL}`,
    '```',
  ].join('\n');
}

export function userPrompt(problemStatement: string, repositoryRoot: string): string {
  return [
    'Fix the issue below in the repository.',
    '',
    '<issue>',
    problemStatement.trim(),
    '</issue>',
    '',
    `The repository is at ${repositoryRoot}, your working directory.`,
  ].join('\n');
}

// Fences open and close at the start of a line, so a command may itself contain ``` (heredocs of Markdown).
const FENCE = /^```(?:bash|sh|shell)[ \t]*\r?\n([\s\S]*?)^```[ \t]*$/gm;

/** The bodies of every ```bash fenced block in an answer. */
export function bashBlocks(text: string): string[] {
  return [...text.matchAll(FENCE)].map((match) => match[1]!.trim());
}

/** The command of a native `bash` tool call, or null when the call is not one. */
export function toolCommand(call: ToolCall): string | null {
  if (call.name !== BASH_TOOL.name) return null;
  try {
    const parsed = JSON.parse(call.arguments) as { command?: unknown };
    return typeof parsed.command === 'string' && parsed.command.trim() ? parsed.command : null;
  } catch {
    return null;
  }
}

export function formatErrorMessage(found: string, nativeTools: boolean): string {
  const want = nativeTools
    ? 'Call the `bash` tool exactly once, with a `command` string.'
    : 'Answer with exactly ONE ```bash fenced block holding one command (chain steps with && if needed).';
  return `Format error: your answer ${found}. ${want} To finish, run \`echo ${SUBMIT_SENTINEL}\` alone.`;
}

/** The command is the sentinel alone, or its output starts with the sentinel line (as in mini-swe-agent). */
export function isSubmitCommand(command: string): boolean {
  return new RegExp(`^echo\\s+(['"]?)${SUBMIT_SENTINEL}\\1\\s*;?$`).test(command.trim());
}

export function submittedByOutput(output: string): boolean {
  return output.trimStart().split('\n', 1)[0]!.trim() === SUBMIT_SENTINEL;
}

/** Head and tail of an output longer than `maxChars`, with a note of how much was elided. */
export function truncateOutput(output: string, maxChars: number): string {
  if (output.length <= maxChars) return output;
  const head = Math.ceil(maxChars / 2);
  const tail = maxChars - head;
  const elided = output.length - head - tail;
  return (
    `${output.slice(0, head)}\n[... ${elided} characters elided: the output was ${output.length} characters, ` +
    `over the ${maxChars} shown; narrow the command with head, tail or grep ...]\n${tail > 0 ? output.slice(-tail) : ''}`
  );
}

export function observation(result: ExecResult, commandTimeoutS: number, maxOutputChars: number): string {
  const output = truncateOutput(result.output, maxOutputChars);
  if (result.timedOut) {
    return (
      `The command timed out after ${commandTimeoutS} s and was killed. Run shorter commands, never ones that wait for input. ` +
      `Output before it was killed:\n<output>\n${output}\n</output>`
    );
  }
  const limited = result.outputLimited ? '\n(The output exceeded the sandbox output limit and the command was stopped.)' : '';
  return `<returncode>${result.exitCode ?? result.signal ?? 'none'}</returncode>\n<output>\n${output}\n</output>${limited}`;
}
