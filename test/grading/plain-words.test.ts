import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { plainWords } from '../../src/grading/_grade-script.ts';
import { shellQuote, shellWord } from '../../src/shell.ts';

/** What bash prints running `script`. */
function underBash(script: string): string {
  return execFileSync('bash', ['-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH!, HOME: '/nonexistent' } });
}

const PRINT_ARGV = `python3 -c 'import sys, json; print(json.dumps(sys.argv[1:]))'`;

describe('a test command of plain words', () => {
  it('is exec-ed as its words, and they reach the program as `bash -c` would hand them', () => {
    for (const rest of [
      `--test --test-reporter=junit "test/**/*.test.js"`,
      `-m unittest -v tests.test_a`,
      `a 'b c' "d  e" x'y'"z" '' "" -k 'not slow and x[1]'`,
      `"--opt=*.py" 'it'"'"'s' --name=a,b:c@d%e+f`,
      `tabs\tand  spaces \t`,
    ]) {
      const command = `${PRINT_ARGV} ${rest}`;
      const words = plainWords(command);
      expect(words, command).toBeDefined();
      expect(underBash(`exec ${words!.map(shellWord).join(' ')}`), command).toBe(underBash(`bash -c ${shellQuote(command)}`));
    }
  });

  it('is anything bash would read more into: those go through bash -c', () => {
    for (const command of [
      'pytest tests/*.py',
      'pytest ~/tests',
      'pytest $TESTS',
      'pytest "$TESTS"',
      'pytest "`id`"',
      'pytest "a\\"b"',
      'pytest a\\ b',
      'pytest {a,b}.py',
      'pytest a; id',
      'pytest && id',
      'pytest | tee log',
      'pytest > log',
      'pytest # comment',
      'pytest x[1]',
      'pytest\nid',
      "pytest 'unclosed",
      'pytest "unclosed',
      'PYTHONPATH=. pytest',
      'cd sub',
      'time pytest',
      'if',
      '! pytest',
      '',
      '   ',
    ]) expect(plainWords(command), JSON.stringify(command)).toBeUndefined();
  });
});
