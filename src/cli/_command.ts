import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError, didYouMean } from '../errors.ts';

type Common = {
  short?: string;
  description: string;
  /** Shown in help as the value's placeholder. */
  value?: string;
  /** Its absence is an error naming the option (no default applies). */
  required?: boolean;
};

/**
 * One option of a command. The parser turns each kind into its value, so a command file reads
 * `values.jobs` as a number and never checks it itself:
 * - `string`: as given (`multiple`: every occurrence);
 * - `list`: comma-separated, repeatable (`--configs a,b --configs c`), a string[] (empty when absent);
 * - `integer` / `number`: checked against `min` / `max`;
 * - `choice`: one of `choices` (from the stage's registry), the nearest one suggested otherwise.
 */
export type OptionSpec = Common & (
  | { type: 'boolean' }
  | { type: 'string'; multiple?: boolean; default?: string }
  | { type: 'list' }
  | { type: 'integer'; default?: number; min?: number; max?: number }
  | { type: 'number'; default?: number; min?: number }
  | { type: 'choice'; choices: readonly string[]; default?: string }
);

export type Options = Record<string, OptionSpec>;

export type CommandSpec<O extends Options> = {
  name: string;
  summary: string;
  usage: string;
  options: O;
  /** Positional arguments allowed (default 0). */
  positionals?: { min?: number; max?: number; names?: string };
};

type Present<S> = S extends { required: true } ? true : S extends { default: string | number } ? true : false;
type Base<S extends OptionSpec> = S extends { type: 'boolean' } ? boolean
  : S extends { type: 'list' } ? string[]
  : S extends { type: 'integer' | 'number' } ? number
  : S extends { type: 'choice'; choices: readonly (infer C)[] } ? C
  : S extends { multiple: true } ? string[]
  : string;
type ValueOf<S extends OptionSpec> = S extends { type: 'boolean' | 'list' } ? Base<S> : Present<S> extends true ? Base<S> : Base<S> | undefined;

export type ParsedArgs<O extends Options> = {
  values: { [K in keyof O]: ValueOf<O[K]> };
  positionals: string[];
};

export type Command = {
  spec: CommandSpec<Options>;
  run(argv: string[]): Promise<number>;
};

/** Builds a command whose flags are typed from its spec, so help text, parsing and checking cannot drift. */
export function defineCommand<const O extends Options>(
  spec: CommandSpec<O>,
  run: (args: ParsedArgs<O>) => Promise<number>,
): Command {
  return {
    spec: spec as CommandSpec<Options>,
    async run(argv: string[]) {
      if (argv.includes('--help') || argv.includes('-h')) {
        process.stdout.write(helpText(spec));
        return 0;
      }
      return run(parseCommandArgs(spec, argv));
    },
  };
}

export function parseCommandArgs<O extends Options>(spec: CommandSpec<O>, argv: string[]): ParsedArgs<O> {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, option] of Object.entries(spec.options)) {
    const multiple = option.type === 'list' || (option.type === 'string' && option.multiple);
    options[name] = { type: option.type === 'boolean' ? 'boolean' : 'string', ...(option.short ? { short: option.short } : {}), ...(multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: withNegativeNumbers(spec, argv), options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UserError(parseErrorText(spec, error as Error & { code?: string }));
  }
  const values: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(spec.options)) values[name] = typedValue(spec, name, option, parsed.values[name] as string | string[] | boolean | undefined);
  const { min = 0, max = 0 } = spec.positionals ?? {};
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    const expected = max === 0 ? 'no positional arguments' : `${spec.positionals?.names ?? 'arguments'}`;
    const given = parsed.positionals.length ? `unexpected arguments \`${parsed.positionals.join(' ')}\`` : 'missing arguments';
    throw new UserError(`bench ${spec.name}: ${given} (expected ${expected}). Usage: ${spec.usage}`);
  }
  return { values, positionals: parsed.positionals } as ParsedArgs<O>;
}

/** `--fail-fast -1` would read `-1` as an option: a numeric option's negative value is joined to it, to be checked as a number. */
function withNegativeNumbers(spec: CommandSpec<Options>, argv: string[]): string[] {
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = flagName(spec, argv[i]!);
    const option = name ? spec.options[name] : undefined;
    if ((option?.type === 'integer' || option?.type === 'number') && /^-\d/.test(argv[i + 1] ?? '')) args.push(`--${name}=${argv[++i]}`);
    else args.push(argv[i]!);
  }
  return args;
}

/** Node's parseArgs messages, as one paragraph of ours: what was wrong, the nearest option, where to look. */
function parseErrorText(spec: CommandSpec<Options>, error: Error & { code?: string }): string {
  const help = `Run \`bench ${spec.name} --help\` for its options.`;
  const flag = /'(-{1,2}[^'\s=,]+)/.exec(error.message)?.[1] ?? '';
  const name = flagName(spec, flag);
  const option = name ? spec.options[name] : undefined;
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    if (!flag.startsWith('--')) {
      const shorts = Object.entries(spec.options).filter(([, o]) => o.short).map(([long, o]) => `-${o.short} (--${long})`);
      return `bench ${spec.name}: unknown option \`${flag}\`; its short options are ${[...shorts, '-h (--help)'].join(', ')}. ${help}`;
    }
    const hint = didYouMean(flag.slice(2), Object.keys(spec.options)).replace(/`([^`]+)`/, '`--$1`');
    return `bench ${spec.name}: unknown option \`${flag}\`.${hint} ${help}`;
  }
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    if (option.type === 'boolean') return `bench ${spec.name}: --${name} is a switch and takes no value (give \`--${name}\` alone). ${help}`;
    return `bench ${spec.name}: --${name} needs a value (${placeholder(option)}): ${option.description}. Give it as \`--${name} ${placeholder(option)}\`, or \`--${name}=...\` for a value starting with \`-\`.`;
  }
  return `bench ${spec.name}: ${error.message.replace(/\.$/, '')}. ${help}`;
}

function flagName(spec: CommandSpec<Options>, flag: string): string | undefined {
  if (flag.startsWith('--')) return flag.slice(2) in spec.options ? flag.slice(2) : undefined;
  return Object.entries(spec.options).find(([, option]) => option.short === flag.slice(1))?.[0];
}

function placeholder(option: OptionSpec): string {
  if (option.value) return option.value;
  if (option.type === 'choice') return option.choices.join('|');
  return option.type === 'integer' || option.type === 'number' ? 'N' : 'VALUE';
}

function typedValue(spec: CommandSpec<Options>, name: string, option: OptionSpec, raw: string | string[] | boolean | undefined): unknown {
  if (option.type === 'boolean') return raw === true;
  if (option.type === 'list') return splitList(raw as string[] | undefined);
  if (raw === undefined || (Array.isArray(raw) && raw.length === 0)) {
    if (option.required) throw new UserError(`bench ${spec.name}: --${name} ${placeholder(option)} is required: ${option.description}. Usage: ${spec.usage}`);
    return option.default;
  }
  if (option.type === 'string') return raw;
  // A value option given twice keeps the last, as node's parser does.
  const text = Array.isArray(raw) ? raw[raw.length - 1]! : (raw as string);
  const problem = (expected: string, extra: string) => new UserError(`bench ${spec.name}: --${name} must be ${expected}, got \`${text}\`.${extra}`);
  if (option.type === 'choice') {
    if (option.choices.includes(text)) return text;
    throw problem(`one of ${option.choices.join(', ')}`, `${didYouMean(text, option.choices)} Run \`bench ${spec.name} --help\` for what each means.`);
  }
  const value = option.type === 'integer' ? parseInteger(text) : parseNumber(text);
  const min = option.min ?? (option.type === 'number' ? 0 : undefined);
  const max = option.type === 'integer' ? option.max : undefined;
  const kind = option.type === 'integer' ? 'an integer' : 'a number';
  const range = min !== undefined && max !== undefined ? ` from ${min} to ${max}` : min !== undefined ? ` >= ${min}` : max !== undefined ? ` <= ${max}` : '';
  if (value === undefined || (min !== undefined && value < min) || (max !== undefined && value > max)) throw problem(`${kind}${range}`, ` (--${name} ${placeholder(option)}: ${option.description}.)`);
  return value;
}

/** A whole decimal integer (`8`, `-1`); not `2.5`, `1e3`, `0x10` or an empty string. */
export function parseInteger(text: string): number | undefined {
  return /^[-+]?\d+$/.test(text.trim()) ? Number(text) : undefined;
}

function parseNumber(text: string): number | undefined {
  const value = text.trim() === '' ? NaN : Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Splits a comma-separated list option, allowing it to be repeated. */
function splitList(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

export function helpText(spec: CommandSpec<Options>): string {
  const lines = [`${spec.summary}`, '', `Usage: ${spec.usage}`, '', 'Options:'];
  const rows = Object.entries(spec.options).map(([name, option]) => {
    const flag = `${option.short ? `-${option.short}, ` : '    '}--${name}${option.type === 'boolean' ? '' : ` ${placeholder(option)}`}`;
    const notes = [option.required ? 'required' : '', 'default' in option && option.default !== undefined ? `default ${option.default}` : ''].filter(Boolean);
    const described = notes.length && !/\(default/.test(option.description) ? `${option.description} (${notes.join(', ')})` : option.description;
    return [flag, described] as const;
  });
  rows.push(['-h, --help', 'Show this help']);
  const width = Math.max(...rows.map(([flag]) => flag.length));
  for (const [flag, description] of rows) lines.push(`  ${flag.padEnd(width)}  ${description}`);
  return `${lines.join('\n')}\n`;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
