import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bench } from '../../helpers/cli.ts';
import { DATASETS_DIR, builtinInstance, copySuite, evaluate, git, gitCopyOf, scratch, writeJsonl, type Scratch } from './_helpers.ts';

let where: Scratch;
beforeAll(async () => {
  where = await scratch('bad-input');
});
afterAll(async () => {
  await where?.cleanup();
});

/** Runs `bench eval` on bad input and checks the shared contract: exit 2, one paragraph, no database. */
async function rejected(name: string, args: string[]): Promise<string> {
  const db = join(where.dir, `${name}.db`);
  const run = await evaluate(where, args, { db });
  expect(run.exitCode, run.stderr).toBe(2);
  expect(run.stdout).toBe('');
  const stderr = run.stderr.trim();
  expect(stderr).toMatch(/^error: /);
  expect(stderr).not.toMatch(/internal error|^\s+at /m);
  expect(stderr, 'one paragraph: no blank line inside').not.toMatch(/\n\s*\n/);
  expect(existsSync(db), `${db} must not be created`).toBe(false);
  return stderr;
}

describe('bench eval rejects bad input before grading anything', () => {
  it('names a prediction for an unknown instance', async () => {
    const preds = await writeJsonl(join(where.dir, 'unknown.jsonl'), [
      { instance_id: 'benchlab__csvkit-1', model_patch: '' },
      { instance_id: 'benchlab__csvkit-77', model_patch: 'diff --git a/x b/x\n' },
    ]);
    const stderr = await rejected('unknown', ['--predictions', preds]);
    expect(stderr).toContain('unknown instance `benchlab__csvkit-77`');
    expect(stderr).toContain(`${preds}:2`);
  });

  it('shows the line number of a JSONL line that is not JSON', async () => {
    const preds = join(where.dir, 'not-json.jsonl');
    await writeFile(preds, [
      JSON.stringify({ instance_id: 'benchlab__csvkit-1', model_name_or_path: 'm', model_patch: '' }),
      JSON.stringify({ instance_id: 'benchlab__csvkit-2', model_name_or_path: 'm', model_patch: '' }),
      "{'instance_id': 'benchlab__csvkit-3', 'model_patch': ''}",
      '',
    ].join('\n'));
    const stderr = await rejected('not-json', ['--predictions', preds]);
    expect(stderr).toContain(`${preds}:3`);
    expect(stderr).toMatch(/not valid JSON/);
  });

  it('names the instance and the missing field of a dataset record (test_cmd and log_parser may be left out: they are detected)', async () => {
    const stderr = await rejected('missing-fields', ['--predictions', 'gold', '--dataset', join(DATASETS_DIR, 'missing-fields.jsonl'), '--repos-dir', where.dir]);
    expect(stderr).toContain('missing-fields.jsonl:1');
    expect(stderr).toContain('acme__widget-7');
    expect(stderr).toContain('`test_patch` is missing');
    for (const field of ['test_cmd', 'log_parser']) expect(stderr).not.toContain(`\`${field}\` is missing`);
  });

  it('names the repository of a dataset instance that has no local mirror under --repos-dir', async () => {
    const reposDir = join(where.dir, 'empty-mirrors');
    await mkdir(reposDir, { recursive: true });
    const stderr = await rejected('no-mirror', ['--predictions', 'gold', '--dataset', join(DATASETS_DIR, 'no-mirror.jsonl'), '--repos-dir', reposDir]);
    expect(stderr).toContain('acme/widget');
    expect(stderr).toContain(join(reposDir, 'acme__widget'));
  });

  it('shows the path of a suite task file that is not valid JSON', async () => {
    const suite = await copySuite(join(where.dir, 'broken-suite'), ['benchlab__csvkit-1', 'benchlab__csvkit-2']);
    const broken = join(suite, 'instances', 'benchlab__csvkit-2', 'instance.json');
    await writeFile(broken, '{\n  "instance_id": "benchlab__csvkit-2",\n  "repo": "benchlab/csvkit"\n  "timeout": 60\n}\n');
    const stderr = await rejected('broken-suite', ['--predictions', 'gold', '--suite', suite]);
    expect(stderr).toContain(`${broken}:4`);
    expect(stderr).toMatch(/not valid JSON/);
  });

  it('rejects a predictions dict whose values are not prediction objects, naming the key', async () => {
    const preds = join(where.dir, 'strings.json');
    await writeFile(preds, JSON.stringify({ 'benchlab__csvkit-1': 'diff --git a/x b/x' }));
    const stderr = await rejected('strings', ['--predictions', preds]);
    expect(stderr).toMatch(/key "benchlab__csvkit-1": expected a prediction object/);
  });

  it('says so when --predictions points at a folder', async () => {
    const stderr = await rejected('folder', ['--predictions', where.dir]);
    expect(stderr).toMatch(/is not a file/);
  });

  it('says so when --predictions points at a missing file', async () => {
    const missing = join(where.dir, 'nowhere', 'preds.jsonl');
    const stderr = await rejected('missing-file', ['--predictions', missing]);
    expect(stderr).toContain(missing);
    expect(stderr).toMatch(/does not exist/);
  });
});

describe('bench eval on a SWE-bench-style dataset', () => {
  it('grades gold patches from a .jsonl dataset at base_commit of a local git mirror', async () => {
    const reposDir = join(where.dir, 'mirrors');
    const clone = join(reposDir, 'benchlab__iniconf');
    const baseCommit = await gitCopyOf('benchlab__iniconf', clone);
    const { fields, patch, testPatch, problem } = await builtinInstance('benchlab__iniconf-1');
    // A later commit already holds the fix: grading must start from base_commit, not from HEAD.
    await writeFile(join(clone, 'gold.patch'), patch);
    await git(clone, 'apply', 'gold.patch');
    await git(clone, 'commit', '-qam', 'the fix, from the future');
    const record = {
      instance_id: 'benchlab__iniconf-101',
      repo: 'benchlab/iniconf',
      base_commit: baseCommit,
      environment_setup_commit: baseCommit,
      patch,
      test_patch: testPatch,
      problem_statement: problem,
      hints_text: '',
      created_at: '2026-02-12T10:15:00Z',
      version: '1.0',
      FAIL_TO_PASS: JSON.stringify(fields.FAIL_TO_PASS),
      PASS_TO_PASS: JSON.stringify(fields.PASS_TO_PASS),
      test_cmd: fields.test_cmd,
      log_parser: fields.log_parser,
    };
    const dataset = join(where.dir, 'swe-style.jsonl');
    await writeFile(dataset, `${JSON.stringify(record)}\n`);

    const run = await evaluate(where, ['--predictions', 'gold', '--dataset', dataset, '--repos-dir', reposDir], { db: join(where.dir, 'dataset.db') });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.summary).toMatchObject({ total_instances: 1, resolved_ids: ['benchlab__iniconf-101'], error_instances: 0 });

    // Validation proves the FAIL_TO_PASS tests fail at base_commit (they would pass at HEAD).
    const validation = await bench(['tasks', 'validate', dataset, '--repos-dir', reposDir, '--json'], { env: where.env });
    expect(validation.exitCode, validation.stdout + validation.stderr).toBe(0);
    expect(JSON.parse(validation.stdout)).toEqual([{ instanceId: 'benchlab__iniconf-101', ok: true, problems: [] }]);
  });
});
