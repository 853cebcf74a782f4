import { defineCommand, intFlag, printJson } from './_command.ts';
import { Grader, resolveCacheDir } from '../grading/index.ts';
import { readResultsFile, recordVerification, verifyResults } from '../results/index.ts';
import { chooseSandbox } from '../runner/index.ts';
import { imageFlag, sandboxFlag } from '../sandbox/index.ts';

export default defineCommand(
  {
    name: 'verify',
    summary: 'Re-grade every patch of an exported results file in fresh sandboxes and check each claimed outcome, the suite hash and the summary.',
    usage: 'bench verify FILE [-j N] [--record] [--json]',
    positionals: { min: 1, max: 1, names: 'FILE' },
    options: {
      jobs: { type: 'string', short: 'j', value: 'N', description: 'Instances graded at once (default 2)' },
      sandbox: sandboxFlag('Where patches run'),
      image: imageFlag(),
      record: { type: 'boolean', description: 'When everything matches, add a verification entry to the file (the leaderboard\'s ✓)' },
      json: { type: 'boolean', description: 'Print JSON' },
    },
  },
  async ({ values, positionals }) => {
    const path = positionals[0]!;
    const file = readResultsFile(path);
    const modelCode = file.instances.some((i) => i.patch && i.patch.trim()) && file.config.name !== 'gold';
    const sandbox = await chooseSandbox({ requested: values.sandbox, image: values.image, modelCode, warn: (m) => process.stderr.write(`warning: ${m}\n`) });
    const grader = new Grader({ sandbox, cacheDir: resolveCacheDir() });
    const { mismatches, problems, skipped } = await verifyResults(file, grader, { jobs: intFlag('jobs', values.jobs, 2) });
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
