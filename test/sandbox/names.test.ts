import { describe, expect, it } from 'vitest';
import { IMAGE_SANDBOXES, SANDBOX_NAMES, SANDBOX_SUMMARIES } from '../../src/sandbox/_names.ts';
import { SANDBOXES, imageSandboxes } from '../../src/sandbox/index.ts';

describe('the sandbox names option parsing reads without loading the backends', () => {
  it('are the registry\'s: every backend, its summary, and the ones with images', () => {
    expect(SANDBOX_NAMES).toEqual(Object.keys(SANDBOXES));
    for (const name of SANDBOX_NAMES) expect(SANDBOXES[name].summary).toBe(SANDBOX_SUMMARIES[name]);
    expect([...IMAGE_SANDBOXES].sort()).toEqual(SANDBOX_NAMES.filter((name) => 'images' in SANDBOXES[name]).sort());
    expect(imageSandboxes()).toEqual([...IMAGE_SANDBOXES]);
  });
});
