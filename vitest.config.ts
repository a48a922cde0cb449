import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The broker first: the run's own teardown (names and folders) runs before it is stopped.
    globalSetup: ['test/support/kafka.global.ts', 'test/support/run.global.ts'],
    setupFiles: ['test/support/cleanup.setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // Integration files share one broker and the machine has two cores.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
