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

  it('--derive --naming writes the lists as SWE-bench and SWE-PolyBench name tests, and those lists validate', async () => {
    const derive = async (naming: string, id: string) => {
      const run = await bench(['tasks', 'validate', '--instances', id, '--derive', '--naming', naming, '--json'], { env: where.env });
      expect(run.exitCode, run.stdout + run.stderr).toBe(0);
      return (JSON.parse(run.stdout) as Validation[])[0]!.derived!;
    };
    const swebench = await derive('swebench', 'benchlab__iniconf-6');
    // unittest's own line, as SWE-bench's parser keeps the text before ` ... `.
    for (const name of [...swebench.FAIL_TO_PASS, ...swebench.PASS_TO_PASS]) expect(name).toMatch(/^\w+ \(tests\.[\w.]+\)$/);
    const polybench = await derive('polybench', 'benchlab__datekit-2');
    for (const name of [...polybench.FAIL_TO_PASS, ...polybench.PASS_TO_PASS]) expect(name).toMatch(/^test\/[\w.-]+\.test\.js->/);

    const renamed = join(where.dir, 'renamed');
    await copySuite(renamed, ['benchlab__iniconf-6', 'benchlab__datekit-2'], (fields) => {
      const lists = fields.instance_id === 'benchlab__iniconf-6' ? swebench : polybench;
      fields.FAIL_TO_PASS = lists.FAIL_TO_PASS;
      fields.PASS_TO_PASS = lists.PASS_TO_PASS;
    });
    const run = await bench(['tasks', 'validate', renamed, '-j', '2'], { env: where.env });
    expect(run.stdout, run.stdout + run.stderr).toContain('2/2 instances valid');
  }, 240_000);

  it('reports a name list that matches nothing on the gold run, with the nearest parsed names', async () => {
    const suite = await copySuite(join(where.dir, 'other-naming'), ['benchlab__datekit-2'], (fields) => {
      fields.FAIL_TO_PASS = (fields.FAIL_TO_PASS as string[]).map((id) => id.replaceAll('::', ' / '));
      fields.PASS_TO_PASS = [];
    });
    const run = await bench(['tasks', 'validate', suite], { env: where.env });
    expect(run.exitCode, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toMatch(/none of the \d+ listed test names matches a test the gold run reported \(log_parser node-junit\); nearest parsed names to `test\/[^`]+`: .*`test\/[^`]+::[^`]+`/);
    }, 120_000);

  it('refuses an unknown --naming', async () => {
    const run = await bench(['tasks', 'validate', '--instances', IDS[0]!, '--derive', '--naming', 'swe'], { env: where.env });
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('--naming must be one of bench, swebench, polybench, got `swe`.');
  });
});
