import { describe, expect, it } from 'vitest';
import { instanceSchema } from '../../src/tasks/_schema.ts';
import { resolveTestCommand } from '../../src/tasks/_test-command.ts';
import { testDirectives } from '../../src/tasks/_swebench-specs.ts';

const DJANGO_PATCH = [
  'diff --git a/tests/model_fields/test_jsonfield.py b/tests/model_fields/test_jsonfield.py',
  '--- a/tests/model_fields/test_jsonfield.py',
  '+++ b/tests/model_fields/test_jsonfield.py',
  'diff --git a/tests/model_fields/models.py b/tests/model_fields/models.py',
  'diff --git a/tests/fixtures/data.json b/tests/fixtures/data.json',
  '',
].join('\n');

function row(fields: Record<string, unknown>) {
  return instanceSchema.parse({ instance_id: 'o__r-1', repo: 'o/r', patch: '', test_patch: '', problem_statement: 'p', FAIL_TO_PASS: '[]', PASS_TO_PASS: '[]', ...fields });
}

const noRepository = () => undefined;

describe('the test command of a row, rule by rule', () => {
  it('uses SWE-bench\'s command for its repositories, by version, with the test patch\'s directives', () => {
    const django = resolveTestCommand(row({ repo: 'django/django', version: '3.0', test_patch: DJANGO_PATCH }), noRepository);
    expect(django).toMatchObject({
      test_cmd: './tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 model_fields.test_jsonfield model_fields.models',
      log_parser: 'django',
    });
    const old = resolveTestCommand(row({ repo: 'django/django', version: '1.9', test_patch: DJANGO_PATCH }), noRepository);
    expect(old).toMatchObject({ test_cmd: './tests/runtests.py --verbosity 2 model_fields.test_jsonfield model_fields.models' });
    const astropy = resolveTestCommand(row({ repo: 'astropy/astropy', version: '1.3', test_patch: 'diff --git a/astropy/io/tests/test_a.py b/astropy/io/tests/test_a.py\n' }), noRepository);
    expect(astropy).toMatchObject({ test_cmd: 'pytest -rA -vv -o console_output_style=classic --tb=no astropy/io/tests/test_a.py', log_parser: 'pytest' });
    const sympy = resolveTestCommand(row({ repo: 'sympy/sympy', version: '1.12', test_patch: 'diff --git a/sympy/core/tests/test_basic.py b/sympy/core/tests/test_basic.py\n' }), noRepository);
    expect(sympy).toMatchObject({ test_cmd: "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose sympy/core/tests/test_basic.py", log_parser: 'sympy' });
    expect(typeof sympy === 'string' ? sympy : sympy.rule).toContain("SWE-bench's command for sympy/sympy 1.12");
  });

  it('leaves data files out of the directives as SWE-bench does', () => {
    expect(testDirectives(DJANGO_PATCH, { dotted: false })).toEqual(['tests/model_fields/test_jsonfield.py', 'tests/model_fields/models.py']);
  });

  it('takes a v5 row\'s command from between its eval_script markers, and its parser key as ours', () => {
    const script = ['#!/bin/bash', 'set -uxo pipefail', 'cd /testbed', "git apply -v - <<'EOF_1'", 'EOF_1', ": '>>>>> Start Test Output'", 'pytest -rA tests/test_x.py', ": '>>>>> End Test Output'", 'git checkout abc tests/test_x.py'].join('\n');
    const resolved = resolveTestCommand(row({ repo: 'acme/widget', eval_script: script, log_parser: 'parse_log_pytest', image: 'swebench/x:latest' }), noRepository);
    expect(resolved).toMatchObject({ test_cmd: 'pytest -rA tests/test_x.py', log_parser: 'pytest' });
    expect(typeof resolved === 'string' ? resolved : resolved.rule).toContain('eval_script');
  });

  it('lets --test-cmd and --log-parser win over everything a row says', () => {
    const resolved = resolveTestCommand(row({ repo: 'django/django', version: '3.0', test_cmd: 'make test', log_parser: 'tap' }), noRepository, { testCmd: 'npm test', logParser: 'unittest' });
    expect(resolved).toMatchObject({ test_cmd: 'npm test', log_parser: 'unittest', rule: '--test-cmd; parser from --log-parser' });
  });

  it('reports a parser bench lacks, and a row with nothing to go on, with the flags that fix it', () => {
    expect(resolveTestCommand(row({ test_cmd: 'x', log_parser: 'parse_log_cargo' }), noRepository)).toMatch(/parse_log_cargo.*--log-parser NAME/);
    expect(resolveTestCommand(row({ repo: 'markedjs/marked', version: '5.0' }), noRepository)).toMatch(/parse_log_marked.*--log-parser/);
    expect(resolveTestCommand(row({ base_commit: 'abc' }), noRepository)).toMatch(/not in the local clone.*--test-cmd CMD and --log-parser NAME/);
    const undetected = resolveTestCommand(row({}), () => ({ where: 'clone@abc', paths: ['README.md'], read: () => undefined }));
    expect(undetected).toMatch(/no runner was detected in clone@abc.*Looked at: package\.json \(absent\); pyproject\.toml \(absent\).*--test-cmd CMD and --log-parser NAME/);
  });
});

describe('rows in SWE-PolyBench\'s shape', () => {
  it('reads F2P / P2P as Python list literals and takes the parser from the reporter its test_command asks for', () => {
    const fields = row({ FAIL_TO_PASS: "['/app/test/a.test.js->suite works', \"it's quoted\"]", PASS_TO_PASS: '[]', test_cmd: 'npx jest --json --runTestsByPath test/a.test.js' });
    expect(fields.FAIL_TO_PASS).toEqual(['/app/test/a.test.js->suite works', "it's quoted"]);
    expect(resolveTestCommand(fields, noRepository)).toMatchObject({ log_parser: 'jest-json', rule: "the row's test_cmd; parser from the reporter its command asks for" });
    expect(resolveTestCommand(row({ test_cmd: 'npm run test -- --reporter json test/x.js' }), noRepository)).toMatchObject({ log_parser: 'mocha-json' });
  });
});
