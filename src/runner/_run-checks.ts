import { UserError } from '../errors.ts';
import { checkCredentials, MissingKeyError, preflight } from '../llm/index.ts';
import type { Arm } from './_arms.ts';
import { unpricedConfigs } from './_estimate.ts';

/* What `bench run` checks before it opens the store: a failed check writes nothing. */

/** Each LLM config of the run once, explorers first. */
export function configsOf(arms: Arm[]) {
  return [...new Map(arms.flatMap((arm) => [arm.explorer, arm.llm]).filter((llm) => llm !== undefined).map((llm) => [llm.name, llm])).values()];
}

/** Every config without a key (or an address it needs), one paragraph each, before anything starts. */
export function checkKeys(arms: Arm[]): void {
  const missing: string[] = [];
  for (const llm of configsOf(arms)) {
    try {
      checkCredentials(llm);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      missing.push(error instanceof MissingKeyError ? error.problem : error.message);
    }
  }
  if (missing.length) throw new UserError(`${missing.join('\n\n')}${missing.length > 1 ? '\n\n' : ' '}Nothing was run.`);
}

/** Ends the run before any attempt when a config cannot work at all: one paragraph per config. */
export async function checkProviders(arms: Arm[], warn: (message: string) => void): Promise<void> {
  const problems = await preflight(configsOf(arms));
  for (const problem of problems.filter((p) => !p.fatal)) warn(problem.message);
  const fatal = problems.filter((p) => p.fatal);
  if (fatal.length === 0) return;
  const paragraphs = fatal.map((p) => p.message);
  const first = paragraphs.shift()!;
  throw new UserError(`${first}${paragraphs.map((p) => `\n\n${p}`).join('')}\n\nNothing was run. Fix the config${fatal.length > 1 ? 's' : ''} above, or pass --no-preflight to skip this check.`);
}

/** `--max-cost` cannot see what bench cannot price: refused for such a config unless `--allow-unpriced`. */
export function checkSpendingCap(arms: Arm[], maxCost: number | undefined, allowUnpriced: boolean | undefined): void {
  const unpriced = maxCost === undefined || allowUnpriced ? [] : unpricedConfigs(arms);
  if (unpriced.length === 0) return;
  const named = unpriced.map((c) => `${c.name} (model \`${c.model}\`)`).join(', ');
  throw new UserError(`--max-cost ${maxCost} cannot be kept: bench knows no price for ${named}, so its spending would count as $0 and the cap would not stop it. Set input_cost_per_token and output_cost_per_token in ${unpriced.map((c) => (c.name === 'llm' ? '[llm]' : `[llm.${c.name}]`)).join(', ')} (0 for a free local model), or pass --allow-unpriced to cap only the priced configs.`);
}
