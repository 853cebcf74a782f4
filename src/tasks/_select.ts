import { UserError, didYouMean } from '../errors.ts';
import { loadDataset } from './_dataset.ts';
import { loadSuite } from './_suite.ts';
import type { Instance, TaskSet } from './_schema.ts';
import type { CommandOverrides } from './_test-command.ts';

/**
 * `--dataset FILE` (.json list, .jsonl, .parquet) or `--suite NAME|PATH` (default: the built-in
 * suite); `--test-cmd` / `--log-parser` override every instance's command and parser.
 */
export async function loadTaskSet(options: { suite?: string; dataset?: string; reposDir?: string } & CommandOverrides): Promise<TaskSet> {
  if (options.suite && options.dataset) throw new UserError('Pass either --suite or --dataset, not both.');
  const overrides = { testCmd: options.testCmd, logParser: options.logParser };
  if (options.dataset) return loadDataset(options.dataset, { reposDir: options.reposDir, overrides });
  return loadSuite(options.suite, overrides);
}

/** Keeps the instances named by `--instances` (exact ids) and matching `--filter` (a regular expression). */
export function selectInstances(set: TaskSet, options: { ids?: string[]; filter?: string }): Instance[] {
  let chosen = set.instances;
  if (options.ids && options.ids.length) {
    const byId = new Map(set.instances.map((i) => [i.instance_id, i]));
    const unknown = options.ids.filter((id) => !byId.has(id));
    if (unknown.length) {
      throw new UserError(`--instances names ${unknown.map((id) => `\`${id}\``).join(', ')}, not in ${set.name}.${didYouMean(unknown[0]!, byId.keys())} List them with \`bench tasks list\`.`);
    }
    chosen = options.ids.map((id) => byId.get(id)!);
  }
  if (options.filter) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(options.filter);
    } catch (error) {
      throw new UserError(`--filter \`${options.filter}\` is not a valid regular expression: ${(error as Error).message}.`);
    }
    chosen = chosen.filter((i) => pattern.test(i.instance_id));
  }
  if (chosen.length === 0) throw new UserError(`No instance of ${set.name} matches the selection. List them with \`bench tasks list\`.`);
  return chosen;
}

/** A seeded shuffle (mulberry32 + Fisher-Yates), so `--shuffle --seed N` is repeatable. */
export function shuffled<T>(items: T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/**
 * Smoke-test subsets, in this order: `--sample N` keeps a seeded random N (in the suite's order,
 * the same N for the same seed), `--shuffle` reorders with the seed, `--limit N` keeps the first N.
 */
export function narrowInstances(instances: Instance[], options: { sample?: number; shuffle?: boolean; limit?: number; seed?: number }): Instance[] {
  const seed = options.seed ?? 0;
  let chosen = instances;
  if (options.sample !== undefined && options.sample < chosen.length) {
    const kept = new Set(shuffled(chosen, seed).slice(0, options.sample));
    chosen = chosen.filter((instance) => kept.has(instance));
  }
  if (options.shuffle) chosen = shuffled(chosen, seed);
  if (options.limit !== undefined) chosen = chosen.slice(0, options.limit);
  return chosen;
}
