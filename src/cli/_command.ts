import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError, didYouMean } from '../errors.ts';

export type OptionSpec = {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
  description: string;
  /** Shown in help as the value's placeholder. */
  value?: string;
};

export type CommandSpec<O extends Record<string, OptionSpec>> = {
  name: string;
  summary: string;
  usage: string;
  options: O;
  /** Positional arguments allowed (default 0). */
  positionals?: { min?: number; max?: number; names?: string };
};

type ValueOf<S extends OptionSpec> = S['type'] extends 'boolean'
  ? boolean | undefined
  : S['multiple'] extends true
    ? string[] | undefined
    : string | undefined;

export type ParsedArgs<O extends Record<string, OptionSpec>> = {
  values: { [K in keyof O]: ValueOf<O[K]> };
  positionals: string[];
};

export type Command = {
  spec: CommandSpec<Record<string, OptionSpec>>;
  run(argv: string[]): Promise<number>;
};

/** Builds a command whose flags are typed from its spec, so help text and parsing cannot drift. */
export function defineCommand<O extends Record<string, OptionSpec>>(
  spec: CommandSpec<O>,
  run: (args: ParsedArgs<O>) => Promise<number>,
): Command {
  return {
    spec: spec as CommandSpec<Record<string, OptionSpec>>,
    async run(argv: string[]) {
      if (argv.includes('--help') || argv.includes('-h')) {
        process.stdout.write(helpText(spec));
        return 0;
      }
      return run(parseCommandArgs(spec, argv));
    },
  };
}

export function parseCommandArgs<O extends Record<string, OptionSpec>>(spec: CommandSpec<O>, argv: string[]): ParsedArgs<O> {
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const [name, option] of Object.entries(spec.options)) {
    options[name] = { type: option.type, ...(option.short ? { short: option.short } : {}), ...(option.multiple ? { multiple: true } : {}) };
  }
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message;
    const flag = /'(-{1,2}[^']+)'/.exec(message)?.[1]?.replace(/^-+/, '') ?? '';
    const hint = flag ? didYouMean(flag, Object.keys(spec.options)) : '';
    throw new UserError(`bench ${spec.name}: ${message}.${hint} Run \`bench ${spec.name} --help\` for its options.`);
  }
  const { min = 0, max = 0 } = spec.positionals ?? {};
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    const expected = max === 0 ? 'no positional arguments' : `${spec.positionals?.names ?? 'arguments'}`;
    throw new UserError(
      `bench ${spec.name}: unexpected arguments \`${parsed.positionals.join(' ')}\` (expected ${expected}). Usage: ${spec.usage}`,
    );
  }
  return parsed as unknown as ParsedArgs<O>;
}

export function helpText(spec: CommandSpec<Record<string, OptionSpec>>): string {
  const lines = [`${spec.summary}`, '', `Usage: ${spec.usage}`, '', 'Options:'];
  const rows = Object.entries(spec.options).map(([name, option]) => {
    const flag = `${option.short ? `-${option.short}, ` : '    '}--${name}${option.type === 'string' ? ` ${option.value ?? 'VALUE'}` : ''}`;
    return [flag, option.description] as const;
  });
  rows.push(['-h, --help', 'Show this help']);
  const width = Math.max(...rows.map(([flag]) => flag.length));
  for (const [flag, description] of rows) lines.push(`  ${flag.padEnd(width)}  ${description}`);
  return `${lines.join('\n')}\n`;
}

/** Splits a comma-separated list flag, allowing the flag to be repeated. */
export function listFlag(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const values = Array.isArray(value) ? value : [value];
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

export function intFlag(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new UserError(`--${name} must be an integer >= ${min}, got \`${value}\`.`);
  }
  return n;
}

export function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UserError(`--${name} must be a non-negative number, got \`${value}\`.`);
  return n;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
