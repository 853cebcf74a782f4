import { detectInstall, detectTestCommand } from './_detect.ts';
import { patchPaths } from './_patch-paths.ts';
import type { RepoFiles } from './_repo-files.ts';
import { LOG_PARSERS, type InstanceFields, type LogParserName } from './_schema.ts';
import { parserForSwebenchKey, swebenchCommand } from './_swebench-specs.ts';

/** `--test-cmd` / `--log-parser`: one command or parser for every row of a dataset. */
export type CommandOverrides = { testCmd?: string; logParser?: string };

export type ResolvedCommand = { test_cmd: string; log_parser: LogParserName; install?: string; rule: string };

const START_MARKER = '>>>>> Start Test Output';
const END_MARKER = '>>>>> End Test Output';
const FIX = 'Add test_cmd and log_parser to the row, or pass --test-cmd CMD and --log-parser NAME for the whole dataset';

/**
 * How to run and read one row's tests, by the first rule that applies:
 * 1. the `--test-cmd` / `--log-parser` flags;
 * 2. the row's own `test_cmd` / `log_parser` (a SWE-bench parser key maps to ours; without a
 *    parser, the one for the report its command asks for);
 * 3. a v5 row's `eval_script`: the lines between its test-output markers;
 * 4. SWE-bench's own command and parser for its repositories, with the test patch's directives;
 * 5. the runner detected in the repository at the base commit.
 * A string is a problem to report: what was looked at and the flag that fixes it.
 */
export function resolveTestCommand(fields: InstanceFields, files: () => RepoFiles | undefined, overrides: CommandOverrides = {}): ResolvedCommand | string {
  let command: { text: string; rule: string } | undefined;
  let parser: { name: string; rule: string } | undefined;
  let install = fields.install;
  if (overrides.testCmd) command = { text: overrides.testCmd, rule: '--test-cmd' };
  else if (fields.test_cmd) command = { text: fields.test_cmd, rule: "the row's test_cmd" };
  if (overrides.logParser) parser = { name: overrides.logParser, rule: '--log-parser' };
  else if (fields.log_parser) parser = { name: fields.log_parser, rule: "the row's log_parser" };

  if (!command && fields.eval_script) {
    const text = testSection(fields.eval_script);
    if (text === undefined) return `its eval_script has no "${START_MARKER}" / "${END_MARKER}" markers to take the test command from. ${FIX}.`;
    command = { text, rule: "the row's eval_script (between its test-output markers)" };
  }
  const swebench = swebenchCommand(fields);
  if (swebench) {
    command ??= { text: swebench.test_cmd, rule: swebench.rule };
    if (!parser) {
      if (!swebench.log_parser) return `SWE-bench reads ${fields.repo}'s output with ${swebench.swebenchParser}, which bench has no parser for. Pass --log-parser NAME (one of: ${LOG_PARSERS.join(', ')}) with a --test-cmd whose output it reads.`;
      parser = { name: swebench.log_parser, rule: `SWE-bench's parser for ${fields.repo} (${swebench.swebenchParser})` };
    }
  }
  if (command && !parser) {
    const guessed = parserForCommand(command.text);
    if (guessed) parser = { name: guessed, rule: 'the reporter its command asks for' };
  }
  if (!command || !parser) {
    const repo = files();
    if (!repo) return `its base commit ${fields.base_commit} is not in the local clone, so the test command cannot be read from the repository. Fetch the commit there. Or: ${FIX}.`;
    const detected = detectTestCommand(repo, patchPaths(fields.test_patch, { dropDeleted: true }), fields.test_patch);
    if ('reason' in detected) {
      return `no test command: the row has none, ${fields.repo} is not one of SWE-bench's repositories, and no runner was detected in ${repo.where}: ${detected.reason}. Looked at: ${detected.lookedAt.join('; ')}. ${FIX}.`;
    }
    command ??= { text: detected.test_cmd, rule: `detected: ${detected.rule}` };
    parser ??= { name: detected.log_parser, rule: `detected with the command` };
    install ??= detected.install;
  }
  // A JavaScript repository's dependencies, when the row does not say how to install them (SWE-bench's own repositories come with their images).
  if (install === undefined && !swebench) {
    const repo = files();
    install = repo && detectInstall(repo);
  }
  const name = parserForSwebenchKey(parser.name) ?? parser.name;
  if (!(LOG_PARSERS as readonly string[]).includes(name)) {
    const origin = parser.name.startsWith('parse_log_') ? `SWE-bench's parser ${parser.name}, which bench has no equivalent for` : `\`${parser.name}\``;
    return `log parser ${origin} (from ${parser.rule}) is not one of bench's: ${LOG_PARSERS.join(', ')}. Set log_parser in the row or pass --log-parser NAME.`;
  }
  const rule = command.rule === "the row's test_cmd" && parser.rule === "the row's log_parser" ? "the row's test_cmd and log_parser"
    : parser.rule === 'detected with the command' ? command.rule : `${command.rule}; parser from ${parser.rule}`;
  return { test_cmd: command.text, log_parser: name as LogParserName, ...(install ? { install } : {}), rule };
}

/**
 * The parser for the report a command asks for (SWE-PolyBench rows carry a `test_command` and
 * no parser): jest `--json`, vitest's JSON reporter, mocha `--reporter json`, node's junit
 * reporter, TAP, pytest, Django's runner, sympy's bin/test.
 */
export function parserForCommand(command: string): string | undefined {
  const has = (pattern: RegExp) => pattern.test(command);
  if (has(/\bvitest\b/)) return has(/--reporter[= ]json\b/) ? 'vitest-json' : has(/--reporter[= ]verbose\b/) ? 'vitest-verbose' : undefined;
  if (has(/\bjest\b/)) return has(/\s--json\b/) ? 'jest-json' : has(/\s--verbose\b/) ? 'jest-verbose' : undefined;
  if (has(/\b_?mocha\b|\bnpm (run )?test\b/) && has(/(--reporter|-R)[= ]json\b/)) return 'mocha-json';
  if (has(/--test-reporter[= ]junit\b/)) return 'node-junit';
  if (has(/--test-reporter[= ]tap\b/)) return 'node-tap';
  if (has(/(--reporter|-R)[= ]tap\b/)) return 'tap';
  if (has(/\bruntests\.py\b/)) return 'django';
  if (has(/\bbin\/test\b/)) return 'sympy';
  if (has(/\bpytest\b/)) return has(/--junit-?xml/) ? 'pytest-junit' : 'pytest';
  if (has(/\bunittest\b/)) return 'unittest';
  return undefined;
}

/** The commands a SWE-bench eval script runs between its test-output markers. */
function testSection(script: string): string | undefined {
  const lines = script.split('\n');
  const start = lines.findIndex((line) => line.includes(START_MARKER));
  const end = lines.findIndex((line, index) => index > start && line.includes(END_MARKER));
  if (start < 0 || end < 0) return undefined;
  const body = lines.slice(start + 1, end).join('\n').trim();
  return body || undefined;
}
