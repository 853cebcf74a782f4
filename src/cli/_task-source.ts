/** The flags that choose the task instances and, for a whole dataset, how their tests run. */
export const TASK_SOURCE_OPTIONS = {
  suite: { type: 'string', value: 'NAME|PATH', description: 'Task suite under tasks/ or a path (default: builtin)' },
  dataset: { type: 'string', value: 'FILE', description: 'Dataset instead of a suite: .jsonl, .json list, or Hugging Face .parquet' },
  'repos-dir': { type: 'string', value: 'DIR', description: 'Local clones for --dataset, one per owner__name or owner/name' },
  'test-cmd': { type: 'string', value: 'CMD', description: 'Test command for every instance (rows, SWE-bench\'s table and detection are not used)' },
  'log-parser': { type: 'string', value: 'NAME', description: 'Log parser for every instance (bench\'s name or a SWE-bench parse_log_* key)' },
} as const;

type SourceValues = { suite?: string; dataset?: string; 'repos-dir'?: string; 'test-cmd'?: string; 'log-parser'?: string };

/** Host paths holding task files (gold patches, clones with future commits): never shown to a sandboxed command. */
export function taskPaths(values: SourceValues): string[] {
  return [values.suite, values.dataset, values['repos-dir']].filter((path): path is string => Boolean(path));
}

export function taskSource(values: SourceValues) {
  return { suite: values.suite, dataset: values.dataset, reposDir: values['repos-dir'], testCmd: values['test-cmd'], logParser: values['log-parser'] };
}
