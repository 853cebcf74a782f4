import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bwrapAvailable, createSandbox, prepareEnvironment, type PreparedEnvironment } from '../../src/sandbox/index.ts';
import { overlayAvailable } from '../../src/sandbox/_overlay.ts';
import { patchOf, scratchDir, smallRepoFiles, writeFiles } from './_fixtures.ts';

const INSTALL = 'mkdir -p node_modules/dep && echo "module.exports = 42;" > node_modules/dep/index.js';
const ready = (await bwrapAvailable()) && (await overlayAvailable());

let scratch: Awaited<ReturnType<typeof scratchDir>>;
let environment: PreparedEnvironment;

beforeAll(async () => {
  scratch = await scratchDir('overlay-test');
  await writeFiles(join(scratch.path, 'repo'), smallRepoFiles(5));
  environment = await prepareEnvironment({ repoDir: join(scratch.path, 'repo'), key: 'overlay@base', install: INSTALL }, { cacheDir: join(scratch.path, 'cache') });
});

afterAll(async () => {
  await scratch?.cleanup();
});

describe.skipIf(!ready)('shared dependencies seen copy-on-write in the bwrap sandbox', () => {
  it('lets a workspace write into node_modules; the writes stay in that workspace and go with it', async () => {
    const sandbox = createSandbox('bwrap', { workDir: join(scratch.path, 'work') });
    const first = await sandbox.createWorkspace(environment);
    const second = await sandbox.createWorkspace(environment);
    try {
      const write = await first.exec('mkdir -p node_modules/.vite-temp && echo cfg > node_modules/.vite-temp/config.mjs && echo "module.exports = 7;" > node_modules/dep/index.js && node -p "require(\'dep\')"', { timeoutMs: 10_000 });
      expect(write.output, write.output).toBe('7\n');
      // The next command of the same workspace sees what the last one wrote.
      const again = await first.exec('cat node_modules/.vite-temp/config.mjs; git status --porcelain', { timeoutMs: 10_000 });
      expect(again.output).toBe('cfg\n');
      // Another workspace, and the shared base, do not.
      const other = await second.exec('ls -A node_modules; node -p "require(\'dep\')"', { timeoutMs: 10_000 });
      expect(other.output).toBe('dep\n42\n');
      expect(await readdir(join(environment.baseDir, 'node_modules'))).toEqual(['dep']);
      expect(await readFile(join(environment.baseDir, 'node_modules/dep/index.js'), 'utf8')).toBe('module.exports = 42;\n');
      // On the host the work tree holds only the empty mount point: nothing of node_modules is copied or diffed.
      expect(await readdir(join(first.dir, 'node_modules'))).toEqual([]);
      expect(await patchOf(first)).toBe('');
    } finally {
      await first.destroy();
      await second.destroy();
    }
    await expect(stat(first.dir)).rejects.toThrow();
  });
});
