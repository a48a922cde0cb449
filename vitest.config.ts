import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/kafka.global.ts'],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // Integration files share one broker and the machine has two cores.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
