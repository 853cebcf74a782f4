import type * as z from 'zod';
import { UserError } from '../errors.ts';

/** JSON.parse with the line and column of a syntax error; `firstLine` is the text's line in its file (JSONL). */
export function parseJsonText(text: string, file: string, firstLine = 1): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = (error as Error).message;
    const position = Number(/position (\d+)/.exec(message)?.[1] ?? NaN);
    let location = '';
    if (Number.isFinite(position)) {
      const before = text.slice(0, position).split('\n');
      location = `:${firstLine + before.length - 1}:${before.at(-1)!.length + 1}`;
    } else if (firstLine > 1) location = `:${firstLine}`;
    throw new UserError(`${file}${location}: not valid JSON (${message.replace(/ in JSON at position \d+.*$/, '')}). Fix the syntax there.`);
  }
}

/** One line naming each missing or bad field. */
export function describeIssues(error: z.ZodError, raw: Record<string, unknown>): string {
  const parts = error.issues.map((issue) => {
    const field = issue.path.join('.') || '(instance)';
    const value = raw[String(issue.path[0])];
    return value === undefined ? `field \`${field}\` is missing` : `field \`${field}\` ${issue.message} (got ${JSON.stringify(value)?.slice(0, 60)})`;
  });
  return `${parts.join('; ')}. Add or fix ${error.issues.length === 1 ? 'it' : 'them'} (test_cmd and log_parser tell bench how to run and read the tests).`;
}
