import * as z from 'zod';

/** The log parsers a task may name; grading holds one parser for each (`grading/_parsers.ts`). */
export const LOG_PARSERS = [
  'node-junit',
  'node-tap',
  'tap',
  'junit',
  'jest-json',
  'vitest-json',
  'mocha-json',
  'pytest',
  'pytest-junit',
  'unittest',
  'django',
  'sympy',
  'jest-verbose',
  'vitest-verbose',
  'karma',
] as const;

export type LogParserName = (typeof LOG_PARSERS)[number];

/** FAIL_TO_PASS / PASS_TO_PASS: JSON-encoded lists inside strings in the official data, plain arrays elsewhere. */
const testList = z.preprocess((value) => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return pythonStringList(value) ?? value;
  }
}, z.array(z.string()));

/** A Python list literal of strings (`['a', "b"]`), as SWE-PolyBench stores its F2P / P2P; undefined when it is not one. */
function pythonStringList(text: string): string[] | undefined {
  const items: string[] = [];
  const literal = /\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\s*(,|\])/y;
  const trimmed = text.trim();
  if (!trimmed.startsWith('[')) return undefined;
  if (/^\[\s*\]$/.test(trimmed)) return [];
  literal.lastIndex = 1;
  for (;;) {
    const match = literal.exec(trimmed);
    if (!match) return undefined;
    const body = match[1] ?? match[2]!;
    items.push(body.replace(/\\(.)/g, (_, char: string) => ({ n: '\n', t: '\t', r: '\r' })[char] ?? char));
    if (match[3] === ']') return literal.lastIndex === trimmed.length ? items : undefined;
  }
}

export const instanceSchema = z.object({
  instance_id: z.string().min(1),
  repo: z.string().regex(/^[^/\s]+\/[^/\s]+$/, 'must be owner/name'),
  base_commit: z.string().optional(),
  patch: z.string(),
  test_patch: z.string(),
  problem_statement: z.string().min(1),
  hints_text: z.string().default(''),
  created_at: z.string().default(''),
  version: z.string().default(''),
  environment_setup_commit: z.string().optional(),
  FAIL_TO_PASS: testList,
  PASS_TO_PASS: testList,
  image: z.string().optional(),
  eval_script: z.string().optional(),
  eval_type: z.enum(['pass_and_fail', 'fail_only']).optional(),
  // How to run and read the tests; when a row has none, they come from SWE-bench's table for its
  // repository or from the repository itself (see _test-command.ts). `log_parser` may also be a
  // SWE-bench parser registry key (v5 rows).
  test_cmd: z.string().min(1).optional(),
  log_parser: z.string().min(1).optional(),
  install: z.string().optional(),
  language: z.string().optional(),
  timeout: z.number().positive().default(1800),
});

export type InstanceFields = z.infer<typeof instanceSchema>;

export type Instance = Omit<InstanceFields, 'test_cmd' | 'log_parser'> & {
  test_cmd: string;
  log_parser: LogParserName;
  /** Which rule chose test_cmd and log_parser (the row, a flag, SWE-bench's table, detection). */
  testCommandRule: string;
  /** Where the repository's base state is, as plain files (a suite) or a local clone (a dataset). */
  source: { kind: 'suite'; suite: string; repoDir: string; treeHash: string } | { kind: 'dataset'; file: string; cloneDir: string };
  /** Content hash of the instance fields and its repository base: changes when anything graded changes. */
  contentHash: string;
};

export type TaskSet = {
  /** Suite name, or the dataset file's name. */
  name: string;
  instances: Instance[];
  /** Hash of every instance's content hash, in id order. */
  hash: string;
};
