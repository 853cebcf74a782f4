import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bench } from '../../helpers/cli.ts';
import { builtinInstance, copySuite, scratch, type Scratch } from './_helpers.ts';

type Validation = { instanceId: string; ok: boolean; problems: string[]; derived?: { FAIL_TO_PASS: string[]; PASS_TO_PASS: string[] } };

const IDS = ['benchlab__datekit-2', 'benchlab__iniconf-6'];

let where: Scratch;
beforeAll(async () => {
  where = await scratch('validate');
});
afterAll(async () => {
  await where?.cleanup();
});

describe('bench tasks validate', () => {
  it('passes built-in instances, and --derive reproduces their FAIL_TO_PASS and PASS_TO_PASS lists', async () => {
    const run = await bench(['tasks', 'validate', '--instances', IDS.join(','), '--derive', '--json', '-j', '2'], { env: where.env });
    expect(run.exitCode, run.stdout + run.stderr).toBe(0);
    const results = JSON.parse(run.stdout) as Validation[];
    expect(results.map((r) => r.instanceId)).toEqual(IDS);
    for (const result of results) {
      expect(result, result.instanceId).toMatchObject({ ok: true, problems: [] });
      const { fields } = await builtinInstance(result.instanceId);
      expect(result.derived!.FAIL_TO_PASS, result.instanceId).toEqual([...fields.FAIL_TO_PASS].sort());
      expect(result.derived!.PASS_TO_PASS, result.instanceId).toEqual([...fields.PASS_TO_PASS].sort());
    }
  });

  it('fails with exit 1 and names a FAIL_TO_PASS test that already passes on the base', async () => {
    const alreadyPassing = 'test/parse.test.js::parse::keeps quoted commas';
    const suite = await copySuite(join(where.dir, 'wrong-list'), ['benchlab__csvkit-1'], (fields) => {
      fields.FAIL_TO_PASS = [...(fields.FAIL_TO_PASS as string[]), alreadyPassing];
      fields.PASS_TO_PASS = (fields.PASS_TO_PASS as string[]).filter((id) => id !== alreadyPassing);
    });
    const run = await bench(['tasks', 'validate', suite], { env: where.env });
    expect(run.exitCode, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toMatch(/^FAIL benchlab__csvkit-1$/m);
    expect(run.stdout).toContain(`FAIL_TO_PASS tests already pass on the base: ${alreadyPassing}`);
    expect(run.stdout).toContain('0/1 instances valid');
  });
});
