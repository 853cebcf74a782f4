import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bench } from '../../helpers/cli.ts';
import { bwrapAvailable } from '../../../src/sandbox/index.ts';
import { copySuite, evaluate, scratch, type Scratch } from './_helpers.ts';

const SANDBOX = (await bwrapAvailable()) ? 'bwrap' : 'local';

let where: Scratch;
beforeAll(async () => {
  where = await scratch('naming');
});
afterAll(async () => {
  await where?.cleanup();
});

/** `tests/test_x.py::TestC::test_a` as unittest prints it on Python 3.10 and older, SWE-bench's Django naming. */
const unittestName = (id: string) => {
  const [file, ...rest] = id.split('::');
  const test = rest.pop()!;
  return `${test} (${[file!.replace(/\.py$/, '').replaceAll('/', '.'), ...rest].join('.')})`;
};
/** `test/a.test.js::suite::title` as SWE-PolyBench writes it inside its container. */
const polybenchName = (id: string) => {
  const [file, ...rest] = id.split('::');
  return `/testbed/${file}->${rest.join(' ')}`;
};

describe('grading rows named as other harnesses name tests', () => {
  it('resolves them with the gold patch, and report.json and bench show say which rule matched', async () => {
    const suite = await copySuite(join(where.dir, 'foreign'), ['benchlab__iniconf-1', 'benchlab__datekit-2'], (fields) => {
      const rename = fields.log_parser === 'unittest' ? unittestName : polybenchName;
      fields.FAIL_TO_PASS = (fields.FAIL_TO_PASS as string[]).map(rename);
      fields.PASS_TO_PASS = (fields.PASS_TO_PASS as string[]).map(rename);
    });
    const db = join(where.dir, 'naming.db');
    const run = await evaluate(where, ['--suite', suite, '--predictions', 'gold', '--sandbox', SANDBOX], { db });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.summary).toMatchObject({ resolved_instances: 2, unresolved_instances: 0 });

    const report = async (id: string) => {
      const text = await readFile(join(where.dir, 'runs', run.summary!.run_id, 'gold', id, 'report.json'), 'utf8');
      return (JSON.parse(text) as Record<string, { test_matches: Record<string, { rule: string; tests: string[]; status: string }> }>)[id]!.test_matches;
    };
    const unittest = await report('benchlab__iniconf-1');
    expect(new Set(Object.values(unittest).map((match) => match.rule))).toEqual(new Set(['native']));
    const [name, match] = Object.entries(unittest)[0]!;
    expect(match.tests).toHaveLength(1);
    expect(unittestName(match.tests[0]!)).toBe(name);
    const polybench = await report('benchlab__datekit-2');
    expect(new Set(Object.values(polybench).map((entry) => entry.rule))).toEqual(new Set(['container-path']));

    const show = await bench(['show', run.summary!.run_id, 'benchlab__datekit-2', 'gold', '--db', db], { env: where.env });
    expect(show.exitCode, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/PASSED\s+FAIL_TO_PASS\s+\/testbed\/test\/[^\n]+ {3}\(by container-path: test\/[^\n]+::/);
    }, 180_000);
});
