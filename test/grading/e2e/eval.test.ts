import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bwrapAvailable } from '../../../src/sandbox/index.ts';
import { builtinInstance, evaluate, scratch, showAttempt, writeJsonl, type Scratch } from './_helpers.ts';

// Model-written patches only run sandboxed; where bwrap is missing these benign ones run locally.
const SANDBOX = (await bwrapAvailable()) ? 'bwrap' : 'local';
const GOLD_IDS = ['benchlab__csvkit-1', 'benchlab__iniconf-1', 'benchlab__semverlite-3'];
const STATUS_LISTS = ['FAIL_TO_PASS', 'PASS_TO_PASS', 'FAIL_TO_FAIL', 'PASS_TO_FAIL'];

let where: Scratch;
beforeAll(async () => {
  where = await scratch('eval');
});
afterAll(async () => {
  await where?.cleanup();
});

describe('bench eval', () => {
  it('resolves every instance with the gold patches and writes SWE-bench summary fields and report.json files', async () => {
    const db = join(where.dir, 'gold.db');
    const run = await evaluate(where, ['--predictions', 'gold', '--instances', GOLD_IDS.join(','), '--sandbox', SANDBOX], { db });
    expect(run.exitCode, run.stderr).toBe(0);
    const summary = run.summary!;
    expect(summary).toMatchObject({
      model_name_or_path: 'gold',
      total_instances: 3,
      submitted_instances: 3,
      completed_instances: 3,
      resolved_instances: 3,
      unresolved_instances: 0,
      empty_patch_instances: 0,
      error_instances: 0,
      submitted_ids: [...GOLD_IDS].sort(),
      completed_ids: [...GOLD_IDS].sort(),
      resolved_ids: [...GOLD_IDS].sort(),
      unresolved_ids: [],
      empty_patch_ids: [],
      error_ids: [],
    });

    for (const id of GOLD_IDS) {
      const path = join(where.dir, 'runs', summary.run_id, 'gold', id, 'report.json');
      expect(existsSync(path), path).toBe(true);
      const report = JSON.parse(await readFile(path, 'utf8')) as Record<string, Record<string, unknown>>;
      expect(Object.keys(report)).toEqual([id]);
      const entry = report[id]!;
      expect(entry).toMatchObject({ patch_is_None: false, patch_exists: true, patch_successfully_applied: true, resolved: true });
      const status = entry.tests_status as Record<string, { success: string[]; failure: string[] }>;
      expect(Object.keys(status).sort()).toEqual([...STATUS_LISTS].sort());
      const { fields } = await builtinInstance(id);
      expect(status.FAIL_TO_PASS).toEqual({ success: fields.FAIL_TO_PASS, failure: [] });
      expect(status.PASS_TO_PASS).toEqual({ success: fields.PASS_TO_PASS, failure: [] });
    }
  });

  it('counts empty and null patches as empty patches and resolves none of them', async () => {
    const db = join(where.dir, 'empty.db');
    const preds = await writeJsonl(join(where.dir, 'empty.jsonl'), [
      { instance_id: 'benchlab__csvkit-2', model_patch: '' },
      { instance_id: 'benchlab__datekit-1', model_patch: null },
      { instance_id: 'benchlab__iniconf-2', model_patch: '  \n' },
    ]);
    const run = await evaluate(where, ['--predictions', preds, '--instances', 'benchlab__csvkit-2,benchlab__datekit-1,benchlab__iniconf-2'], { db });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.summary).toMatchObject({
      submitted_instances: 3, resolved_instances: 0, empty_patch_instances: 3, completed_instances: 0, error_instances: 0,
      empty_patch_ids: ['benchlab__csvkit-2', 'benchlab__datekit-1', 'benchlab__iniconf-2'],
    });
    const report = JSON.parse(await readFile(join(run.summary!.report_dir, 'benchlab__datekit-1', 'report.json'), 'utf8'));
    expect(report['benchlab__datekit-1']).toMatchObject({ patch_is_None: true, patch_exists: false, patch_successfully_applied: false, resolved: false });
  });

  it('accepts predictions as .jsonl, as a .json list and as a .json dict keyed by instance id', async () => {
    const db = join(where.dir, 'shapes.db');
    const id = 'benchlab__exprcalc-1';
    const { patch } = await builtinInstance(id);
    const files = {
      jsonl: await writeJsonl(join(where.dir, 'shape.jsonl'), [{ instance_id: id, model_patch: patch }]),
      list: join(where.dir, 'shape-list.json'),
      dict: join(where.dir, 'preds.json'),
    };
    await writeFile(files.list, JSON.stringify([{ instance_id: id, model_name_or_path: 'e2e-model', model_patch: patch }]));
    await writeFile(files.dict, JSON.stringify({ [id]: { model_name_or_path: 'e2e-model', model_patch: patch } }));
    for (const [shape, file] of Object.entries(files)) {
      const run = await evaluate(where, ['--predictions', file, '--instances', id, '--sandbox', SANDBOX], { db });
      expect(run.exitCode, `${shape}: ${run.stderr}`).toBe(0);
      expect(run.summary, shape).toMatchObject({ model_name_or_path: 'e2e-model', submitted_ids: [id], resolved_ids: [id] });
    }
  });

  it('reuses stored grades for the same patches on a second run, and grades again with --regrade', async () => {
    const db = join(where.dir, 'reuse.db');
    const args = ['--predictions', 'gold', '--instances', 'benchlab__flagparse-1,benchlab__datekit-2', '--sandbox', SANDBOX];
    const first = await evaluate(where, args, { db });
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.summary).toMatchObject({ resolved_instances: 2, reused_grades: 0 });

    const second = await evaluate(where, args, { db });
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.summary!.run_id).not.toBe(first.summary!.run_id);
    expect(second.summary).toMatchObject({ resolved_instances: 2, reused_grades: 2 });

    const third = await evaluate(where, [...args, '--regrade'], { db });
    expect(third.exitCode, third.stderr).toBe(0);
    expect(third.summary).toMatchObject({ resolved_instances: 2, reused_grades: 0 });

    const elsewhere = await evaluate(where, args, { db: join(where.dir, 'reuse-other.db') });
    expect(elsewhere.summary).toMatchObject({ resolved_instances: 2, reused_grades: 0 });
  });

  it('grades a malformed patch as patch_failed (an error instance), never a crash', async () => {
    const db = join(where.dir, 'malformed.db');
    const missingLines = [
      'diff --git a/src/stringify.js b/src/stringify.js',
      '--- a/src/stringify.js',
      '+++ b/src/stringify.js',
      '@@ -200,3 +200,3 @@ function nowhere() {',
      ' const first = 1;',
      '-const second = 2;',
      '+const second = 3;',
      ' const third = 4;',
      '',
    ].join('\n');
    const preds = await writeJsonl(join(where.dir, 'malformed.jsonl'), [
      { instance_id: 'benchlab__csvkit-3', model_patch: 'I fixed it! The bug was in parse.js, just change the loop.\n' },
      { instance_id: 'benchlab__csvkit-4', model_patch: missingLines },
    ]);
    const run = await evaluate(where, ['--predictions', preds, '--instances', 'benchlab__csvkit-3,benchlab__csvkit-4', '--sandbox', SANDBOX], { db });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/internal error/);
    expect(run.summary).toMatchObject({
      submitted_instances: 2, resolved_instances: 0, completed_instances: 0, error_instances: 2, patch_failed_instances: 2,
      error_ids: ['benchlab__csvkit-3', 'benchlab__csvkit-4'],
    });
    for (const id of ['benchlab__csvkit-3', 'benchlab__csvkit-4']) {
      const attempt = await showAttempt(where, db, run.summary!.run_id, id, 'e2e-model');
      expect(attempt.outcome).toBe('patch_failed');
      expect(attempt.error).toMatch(/did not apply/);
      const report = JSON.parse(await readFile(join(run.summary!.report_dir, id, 'report.json'), 'utf8'));
      expect(report[id]).toMatchObject({ patch_exists: true, patch_successfully_applied: false, resolved: false });
    }
  });

  it('applies a patch whose context lines drifted with `patch --fuzz` and grades it', async () => {
    const db = join(where.dir, 'fuzz.db');
    const { patch } = await builtinInstance('benchlab__csvkit-1');
    // The model saw a comment after toText() that the workspace does not have: git apply refuses, patch takes it with fuzz.
    const drifted = patch.replace('\n }\n \n function needsQuoting', '\n }  // end of toText\n \n function needsQuoting');
    expect(drifted).not.toBe(patch);
    const preds = await writeJsonl(join(where.dir, 'fuzz.jsonl'), [{ instance_id: 'benchlab__csvkit-1', model_patch: drifted }]);
    const run = await evaluate(where, ['--predictions', preds, '--instances', 'benchlab__csvkit-1', '--sandbox', SANDBOX], { db });
    expect(run.exitCode, run.stderr).toBe(0);
    const attempt = await showAttempt(where, db, run.summary!.run_id, 'benchlab__csvkit-1', 'e2e-model');
    expect(attempt.grade.applyMethod).toBe('patch --batch --forward --fuzz=5 -p1');
    expect(attempt.outcome).toBe('resolved');
    expect(run.summary).toMatchObject({ resolved_ids: ['benchlab__csvkit-1'], error_instances: 0 });
  });
});
