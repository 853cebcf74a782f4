import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runnerModuleNames, runnerModulesReady } from '../../src/grading/_grade-script.ts';

const dir = mkdtempSync(join(tmpdir(), 'bench-runner-modules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the modules a patch may not shadow', () => {
  it('are asked of python3 once and kept in the cache folder, the same list the grading script uses', async () => {
    const names = await runnerModulesReady(dir);
    expect(names).toContain('unittest');
    expect(names).toContain('json');
    const kept = readdirSync(dir).filter((name) => name.startsWith('runner-modules-'));
    expect(kept).toHaveLength(1);
    expect(readFileSync(join(dir, kept[0]!), 'utf8').split('\n')).toContain('unittest');
    expect(runnerModuleNames()).toEqual(names);
  });
});
