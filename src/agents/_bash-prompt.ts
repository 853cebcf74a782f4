import type { ToolCall, ToolSpec } from '../llm/index.ts';
import type { ExecResult } from '../sandbox/index.ts';
import { SUBMIT_SENTINEL } from './_submission.ts';

/**
 * The bash agent's prompts, modelled on mini-swe-agent v2's SWE-bench configuration: one `bash`
 * tool (several calls per answer allowed) or, in text mode, one fenced command per answer; each
 * command a fresh process; the fix submitted as a `git diff` of the chosen source files.
 */

export const BASH_TOOL: ToolSpec = {
  name: 'bash',
  description: 'Execute a bash command in a fresh shell at the repository root and return its exit code and output.',
  parameters: {
    type: 'object',
    properties: { command: { type: 'string', description: 'The bash command to execute.' } },
    required: ['command'],
  },
};

export type PromptOptions = { nativeTools: boolean; commandTimeoutS: number; maxOutputChars: number };

const SUBMIT_COMMAND = `echo ${SUBMIT_SENTINEL} && cat patch.txt`;

function howToAct(nativeTools: boolean): string {
  return nativeTools
    ? 'Act through the `bash` tool. You may make several tool calls in one answer; they run in the order given. Every answer must make at least one tool call.'
    : 'Each answer must hold exactly ONE bash command, in a single ```bash fenced block, after a short explanation of your reasoning. Chain steps with && or || when they belong together.';
}

function environment(options: PromptOptions): string[] {
  return [
    'Each command runs in a new shell at the repository root: a `cd` or a variable does not carry over to the next command, so prefix commands with `cd DIR &&` when needed.',
    'There is no interactive terminal: never start an editor, a pager or anything that waits for input. Edit files with sed, `cat <<\'EOF\' > file`, or a `python3 - <<\'EOF\'` script.',
    `A command is stopped after ${options.commandTimeoutS} s. Output longer than ${options.maxOutputChars} characters is cut in the middle, so narrow it with head, tail, grep or sed -n.`,
  ];
}

export function systemPrompt(options: PromptOptions): string {
  return [
    'You are a careful software engineer who solves programming tasks by running shell commands in a repository and reading what they print.',
    '',
    howToAct(options.nativeTools),
    ...environment(options),
  ].join('\n');
}

export function userPrompt(problemStatement: string, repositoryRoot: string, notes?: string): string {
  return [
    '<pr_description>',
    problemStatement.trim(),
    '</pr_description>',
    '',
    ...(notes ? ['Notes on where the relevant code lives, from a colleague who read the repository before you (check them, they may be incomplete):', '<exploration_notes>', notes.trim(), '</exploration_notes>', ''] : []),
    `The repository is at ${repositoryRoot}, your working directory. Change the non-test source files so that the behaviour the description asks for holds, in a way that is general and consistent with the code base.`,
    'Do not change the tests or the test configuration: the fix is judged by tests you do not see.',
    '',
    'A good way to work:',
    '1. Find and read the code involved.',
    '2. Write a small script that reproduces the problem, and run it.',
    '3. Edit the source to fix the problem.',
    '4. Run your script again to check the fix, and think of edge cases.',
    '5. Submit.',
    '',
    'To submit, first write the patch of the source files you changed to patch.txt and look at it:',
    '```bash',
    'git diff -- path/to/file1 path/to/file2 > patch.txt && cat patch.txt',
    '```',
    'Leave out reproduction scripts, notes and test files: patch.txt must hold the fix alone. For a file you created, `git add -N path` first so that git diff shows it.',
    `Then run this command, alone, as your last action: \`${SUBMIT_COMMAND}\``,
    'Only what that command prints is graded; you cannot continue after it. If you stop in any other way (a step, cost or time limit), nothing is submitted.',
  ].join('\n');
}

/** The explorer role of explore-then-write: read the code, change nothing, hand over locations and notes. */
export function explorerSystemPrompt(options: PromptOptions): string {
  return [
    'You are a code explorer. You read a repository with shell commands to find where an issue must be fixed; a colleague will write the fix from your notes.',
    'You only read: never edit, create or delete a file, and never install anything. Anything you change is undone before your colleague starts.',
    '',
    howToAct(options.nativeTools),
    ...environment(options),
  ].join('\n');
}

export function explorerUserPrompt(problemStatement: string, repositoryRoot: string): string {
  return [
    '<pr_description>',
    problemStatement.trim(),
    '</pr_description>',
    '',
    `The repository is at ${repositoryRoot}, your working directory. Find the code this description is about: the functions, the files and the lines that will have to change, and anything a fix must keep in mind.`,
    'When you know, hand over a short list: one location per line as `path:line-range - what is there and why it matters`, then a few lines of notes. Submit it with one command, alone, as your last action:',
    '```bash',
    `echo ${SUBMIT_SENTINEL} && cat <<'EOF'`,
    'src/module/file.py:120-140 - parse_value() drops the sign of negative numbers',
    'notes: the same helper is used by format_value(); keep both in step',
    'EOF',
    '```',
  ].join('\n');
}

// Fences open and close at the start of a line, so a command may itself contain ``` (heredocs of Markdown).
const FENCE = /^```(?:bash|sh|shell|mswea_bash_command)[ \t]*\r?\n([\s\S]*?)^```[ \t]*$/gm;

/** The bodies of every ```bash fenced block in an answer (mini-swe-agent's own fence name accepted too). */
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
    ? 'Call the `bash` tool, with a `command` string, at least once in every answer.'
    : 'Answer with exactly ONE ```bash fenced block holding one command (chain steps with && if needed).';
  return `Format error: your answer ${found}. ${want} When you are done, submit with \`${SUBMIT_COMMAND}\` alone.`;
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
