import { defineCommand, printJson } from './_command.ts';
import { JSON_OPTION, jobsOption } from './_options.ts';
import { sandboxOptions } from './_sandbox-options.ts';
import { Grader, resolveCacheDir } from '../grading/index.ts';
import { readResultsFile, recordVerification, verifyResults } from '../results/index.ts';
import { chooseSandbox } from '../runner/index.ts';

export default defineCommand(
  {
    name: 'verify',
    summary: 'Re-grade every patch of an exported results file in fresh sandboxes and check each claimed outcome, the suite hash and the summary.',
    usage: 'bench verify FILE [-j N] [--record] [--json]',
    positionals: { min: 1, max: 1, names: 'FILE' },
    options: {
      ...jobsOption('Instances graded at once', 2),
      ...sandboxOptions('Where patches run'),
      record: { type: 'boolean', description: 'When everything matches, add a verification entry to the file (the leaderboard\'s ✓)' },
      ...JSON_OPTION,
    },
  },
  async ({ values, positionals }) => {
    const path = positionals[0]!;
    const file = readResultsFile(path);
    const modelCode = file.instances.some((i) => i.patch && i.patch.trim()) && file.config.name !== 'gold';
    const sandbox = await chooseSandbox({ requested: values.sandbox, image: values.image, modelCode, warn: (m) => process.stderr.write(`warning: ${m}\n`) });
    const grader = new Grader({ sandbox, cacheDir: resolveCacheDir() });
    const { mismatches, problems, skipped } = await verifyResults(file, grader, { jobs: values.jobs });
    const verified = mismatches.length === 0 && problems.length === 0;
    if (verified && values.record) recordVerification(path, file, sandbox.kind);
    if (values.json) printJson({ verified, problems, mismatches, skipped });
    else if (verified) {
      const note = skipped ? ` (${skipped} attempt${skipped === 1 ? '' : 's'} ended in infra errors before grading and had nothing to re-grade)` : '';
      process.stdout.write(`verified: all ${file.instances.length - skipped} graded outcomes of ${path} match a fresh grading${note}.\n`);
    }
    else {
      const lines = [`NOT verified: ${path}`, ...problems.map((p) => `  - ${p}`), ...mismatches.map((m) => `  - ${m.instanceId} (repeat ${m.repeat}): claimed ${m.claimed}, graded ${m.found}`)];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return verified ? 0 : 1;
  },
);
