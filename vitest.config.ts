import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fixture repositories carry their own tests, run by the graders under test, not by us.
    exclude: [...configDefaults.exclude, 'test/fixtures/**'],
    // Most test time is spent waiting on real subprocesses (sandboxes, the CLI), so two files
    // at once keep both cores busy without starving timing-sensitive sandbox tests.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
