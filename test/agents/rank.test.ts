import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectFiles, rankFiles, repositoryIndex } from '../../src/agents/_rank.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rank-test-'));
  await writeFile(join(dir, 'parser.js'), 'function parseExpression(text) {\n  return text;\n}\n');
  await writeFile(join(dir, 'README.md'), 'parseExpression is documented here.\n');
  await writeFile(join(dir, 'util.js'), 'const pad = (s) => s;\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('repository index for ranking', () => {
  it('ranks from an index as from the files themselves', async () => {
    const statement = 'Calling `parseExpression` with a negative power fails';
    const fromFiles = rankFiles(await collectFiles(dir), statement);
    const fromIndex = rankFiles(await repositoryIndex(dir), statement);
    expect(fromIndex).toEqual(fromFiles);
    expect(fromIndex[0]!.path).toBe('parser.js');
  });

  it('reads a repository once per content key, and every time without one', async () => {
    const first = await repositoryIndex(dir, 'content-a');
    await writeFile(join(dir, 'added.js'), 'const added = 1;\n');
    expect(await repositoryIndex(dir, 'content-a')).toBe(first);
    expect((await repositoryIndex(dir)).files.map((file) => file.path)).toContain('added.js');
    expect((await repositoryIndex(dir, 'content-b')).files.map((file) => file.path)).toContain('added.js');
  });
});
