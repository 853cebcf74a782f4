import type { RankedFile, RepoFile } from './_rank.ts';
import { fileWindows, renderWindows } from './_windows.ts';

/** Characters a token stands for, roughly, when sizing a prompt. */
export const CHARS_PER_TOKEN = 4;
export const DEFAULT_INPUT_TOKENS = 24_000;
/** Room kept for the answer's instructions and the provider's own framing. */
const PROMPT_MARGIN_CHARS = 2_000;
const MAX_TREE_ENTRIES = 300;
const EXPLORER_CANDIDATES = 50;
const EXPLORER_HEAD_LINES = 6;

const SEARCH_REPLACE_RULES = [
  'Answer with edit blocks in exactly this format, one block per change:',
  '',
  'path/to/file.ext',
  '<<<<<<< SEARCH',
  'the existing lines to change, copied exactly from the file, indentation included',
  '=======',
  'the lines to put in their place',
  '>>>>>>> REPLACE',
  '',
  'Put the file path, relative to the repository root, alone on the line before each block.',
  'The SEARCH part must match the current file exactly; keep it short but long enough to be unique.',
  'To create a new file, leave the SEARCH part empty.',
].join('\n');

const UDIFF_RULES = [
  'Answer with a unified diff in a ```diff fenced block, as `git diff` prints it:',
  '',
  '```diff',
  '--- a/path/to/file.ext',
  '+++ b/path/to/file.ext',
  '@@ -12,3 +12,3 @@',
  ' an unchanged context line',
  '-a removed line',
  '+an added line',
  '```',
  '',
  'Paths are relative to the repository root; context lines must match the file exactly.',
].join('\n');

export function patchSystemPrompt(editFormat: 'search_replace' | 'udiff'): string {
  return [
    'You are an expert software engineer. You fix an issue in a repository by editing its source files.',
    'You see the issue, the repository\'s files that look relevant, and the list of all its files.',
    'Change only what the issue needs; leave the tests alone. Explain briefly, then give your edits.',
    '',
    editFormat === 'udiff' ? UDIFF_RULES : SEARCH_REPLACE_RULES,
  ].join('\n');
}

/** A fence longer than any run of backticks in the content, so the content cannot close it. */
function fenceFor(content: string): string {
  const longest = Math.max(2, ...[...content.matchAll(/`+/g)].map((match) => match[0].length));
  return '`'.repeat(longest + 1);
}

/** Files rendered already: a shared index's files are the same objects in every attempt's prompt. */
const rendered = new WeakMap<RepoFile, string>();

export function renderFile(file: RepoFile): string {
  let block = rendered.get(file);
  if (block === undefined) {
    const fence = fenceFor(file.content);
    block = `${file.path}\n${fence}\n${file.content}${file.content.endsWith('\n') ? '' : '\n'}${fence}\n`;
    rendered.set(file, block);
  }
  return block;
}

function tree(files: RepoFile[]): string {
  const shown = files.slice(0, MAX_TREE_ENTRIES).map((file) => file.path);
  const more = files.length > shown.length ? `\n... and ${files.length - shown.length} more files` : '';
  return `${shown.join('\n')}${more}`;
}

/** Below this much room left, a file too big to show whole is not worth excerpting. */
const MIN_WINDOW_CHARS = 1_500;

/**
 * The user prompt: the issue, the files in `order` that fit within the character budget (at most
 * `maxFiles`; a file too big for what is left is shown as windows around the lines that matter
 * most for the issue), and the list of every file.
 */
export function patchUserPrompt(options: {
  problemStatement: string; files: RepoFile[]; order: RankedFile[]; maxFiles: number; budgetChars: number; systemChars: number;
}): { prompt: string; shown: string[] } {
  const head = `<issue>\n${options.problemStatement.trim()}\n</issue>\n\nThe most relevant files of the repository:\n\n`;
  const tail = `\nAll files of the repository:\n${tree(options.files)}\n`;
  let left = options.budgetChars - options.systemChars - head.length - tail.length - PROMPT_MARGIN_CHARS;
  const shown: string[] = [];
  const blocks: string[] = [];
  for (const file of options.order) {
    if (shown.length >= options.maxFiles) break;
    let block = renderFile(file);
    if (block.length + 1 > left) {
      if (left < MIN_WINDOW_CHARS) continue;
      const windows = fileWindows(file, options.problemStatement, left - 200);
      if (windows.length === 0) continue;
      block = renderWindows(file, windows, fenceFor(file.content));
      if (block.length + 1 > left) continue;
    }
    blocks.push(block);
    shown.push(file.path);
    left -= block.length + 1;
  }
  return { prompt: `${head}${blocks.join('\n')}${tail}`, shown };
}

export const EXPLORER_SYSTEM_PROMPT = [
  'You help locate the code to change for an issue in a repository.',
  'You see the issue and candidate files with their first lines.',
  'Answer with the paths of the files that must change or must be read to fix the issue, most important first,',
  'one path per line exactly as listed, and nothing else.',
].join('\n');

export function explorerUserPrompt(problemStatement: string, ranked: RankedFile[], maxFiles: number, budgetChars: number): string {
  const head = `<issue>\n${problemStatement.trim()}\n</issue>\n\nCandidate files (path, then its first lines):\n\n`;
  const footer = `\nList at most ${maxFiles} paths, one per line.`;
  let left = budgetChars - head.length - footer.length - PROMPT_MARGIN_CHARS;
  const entries: string[] = [];
  for (const file of ranked.slice(0, EXPLORER_CANDIDATES)) {
    const lines = file.content.split('\n').slice(0, EXPLORER_HEAD_LINES).map((line) => `    ${line.slice(0, 120)}`);
    const entry = `${file.path}\n${lines.join('\n')}\n`;
    if (entry.length > left) break;
    entries.push(entry);
    left -= entry.length;
  }
  return `${head}${entries.join('\n')}${footer}`;
}

/** The known paths an explorer named, in its order; the lines naming no known file are returned apart. */
export function explorerChoice(answer: string, known: Set<string>, root: string): { chosen: string[]; unknown: string[] } {
  const chosen: string[] = [];
  const unknown: string[] = [];
  for (const raw of answer.split('\n')) {
    let line = raw.trim().replace(/^(?:[-*+]|\d+[.)])\s+/, '').replace(/^[`'"*]+|[`'"*,:]+$/g, '').trim();
    if (!line || /^`{3}/.test(raw.trim())) continue;
    if (line.startsWith(`${root}/`)) line = line.slice(root.length + 1);
    line = line.replace(/^\.\//, '').split(/\s+/)[0]!;
    if (known.has(line)) {
      if (!chosen.includes(line)) chosen.push(line);
    } else {
      unknown.push(line);
    }
  }
  return { chosen, unknown };
}
