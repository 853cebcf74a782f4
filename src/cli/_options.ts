/** Option groups several commands share, declared once so their names, checks and help agree. */

export const DB_OPTION = {
  db: { type: 'string', value: 'PATH', description: 'Results database (default $BENCH_DB, else results/bench.db)' },
} as const;

export const JSON_OPTION = {
  json: { type: 'boolean', description: 'Print JSON' },
} as const;

/** `-j N`: how many at once, for the thing `what` names. */
export function jobsOption<const N extends number>(what: string, fallback: N) {
  return { jobs: { type: 'integer', short: 'j', value: 'N', min: 1, default: fallback, description: what } } as const;
}

/** The config file and its overrides, for the commands that resolve LLM configs. */
export function configFileOptions(what = 'Config file (default $BENCH_CONFIG, else ./config.toml)') {
  return {
    config: { type: 'string', value: 'PATH', description: what },
    set: { type: 'string', multiple: true, value: 'KEY=VALUE', description: 'Override an [llm] key for every config (beats env and file)' },
  } as const;
}
