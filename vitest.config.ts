import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Most test time is spent waiting on real subprocesses (sandboxes, the CLI), so two files
    // at once keep both cores busy without starving timing-sensitive sandbox tests.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
