import { describe, expect, it } from 'vitest';
import { gradingScript } from '../../src/grading/_grade-script.ts';
import { gitVersionAtLeast } from '../../src/sandbox/_git.ts';

describe('gitVersionAtLeast', () => {
  it('reads the version git prints, release candidates and vendor suffixes included', () => {
    expect(gitVersionAtLeast('git version 2.39.2\n', [2, 39, 2])).toBe(true);
    expect(gitVersionAtLeast('git version 2.39.5', [2, 39, 2])).toBe(true);
    expect(gitVersionAtLeast('git version 2.40.0-rc1', [2, 39, 2])).toBe(true);
    expect(gitVersionAtLeast('git version 2.45.1.windows.1', [2, 39, 2])).toBe(true);
    expect(gitVersionAtLeast('git version 3.0', [2, 39, 2])).toBe(true);
    expect(gitVersionAtLeast('git version 2.39.1', [2, 39, 2])).toBe(false);
    expect(gitVersionAtLeast('git version 2.34.1', [2, 39, 2])).toBe(false);
    expect(gitVersionAtLeast('git version 1.99.99', [2, 39, 2])).toBe(false);
    expect(gitVersionAtLeast('', [2, 39, 2])).toBe(false);
    expect(gitVersionAtLeast('not git at all 9.9.9', [2, 39, 2])).toBe(false);
  });
});

describe('the search for a .git the patch made or wrote', () => {
  const parts = { nonce: 'n0nce', patch: 'diff --git a/x b/x\n', testPatch: 'diff --git a/t b/t\n', testCmd: 'true', testFiles: [], sharedDirs: [], gitDir: '/workspace/grading-git' };
  const findLine = (script: string) => script.split('\n').findIndex((line) => line.startsWith('find ') || line.trimStart().startsWith('find '));

  it('runs after every apply when git may not guard its paths', () => {
    const { script } = gradingScript(parts);
    const lines = script.split('\n');
    const at = findLine(script);
    expect(at).toBeGreaterThan(0);
    expect(lines[at - 1]).not.toMatch(/^if \[ "\$applied" = /);
  });

  it('runs only after `patch` when git refuses .git paths and paths beyond links itself', () => {
    const { script } = gradingScript({ ...parts, gitGuardsPaths: true });
    const lines = script.split('\n');
    const at = findLine(script);
    // `patch` is the chain's fourth try: applied=3.
    expect(lines[at - 1]).toBe('if [ "$applied" = 3 ]; then');
    expect(lines[at + 1]).toBe('fi');
    // The verdict on what it found stays unconditional (an empty or absent list passes).
    expect(lines[at + 2]).toMatch(/^if \[ -s "\$scratch\/dot-git" \]; then/);
  });

  it('keeps the search unconditional without the harness git directory (a container image git of any age)', () => {
    const { script } = gradingScript({ ...parts, gitDir: undefined, gitGuardsPaths: true });
    expect(script).not.toContain('if [ "$applied" = 3 ]; then');
    expect(findLine(script)).toBeGreaterThan(0);
  });
});
