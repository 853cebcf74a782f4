import { bwrapAvailable, createSandbox, type Sandbox, type SandboxKind } from '../sandbox/index.ts';
import { UserError } from '../errors.ts';

/**
 * bwrap by default. Model-generated code never runs unisolated unless the user passed
 * `--sandbox local`; the gold and empty baselines may fall back to local, with a warning.
 */
export async function chooseSandbox(requested: string | undefined, options: { modelCode: boolean; warn: (message: string) => void }): Promise<Sandbox> {
  if (requested !== undefined && requested !== 'bwrap' && requested !== 'local') {
    throw new UserError(`--sandbox must be bwrap or local, got \`${requested}\`.`);
  }
  if (requested === 'local') return createSandbox('local');
  if (await bwrapAvailable()) return createSandbox('bwrap');
  if (requested === 'bwrap' || options.modelCode) {
    throw new UserError(
      'bubblewrap (bwrap) is not available here, and model-generated code only runs in a sandbox. Install it (Debian/Ubuntu: `apt-get install bubblewrap`), or pass `--sandbox local` to run it unisolated at your own risk.',
    );
  }
  options.warn('bubblewrap (bwrap) is not available; the gold/empty baselines run with --sandbox local (no isolation). Install bubblewrap to grade in a sandbox.');
  return createSandbox('local' satisfies SandboxKind);
}
