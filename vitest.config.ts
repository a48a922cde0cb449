import { defineConfig } from 'vitest/config';
import { ALL_FILES, KAFKA_FILES, PROCESS_FILES } from './test/support/test-projects.js';

export default defineConfig({
  test: {
    setupFiles: ['test/support/cleanup.setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // Integration files share one broker and the machine has two cores.
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: [ALL_FILES],
          exclude: [KAFKA_FILES, ...PROCESS_FILES],
          // No kafka.global.ts: a unit file that asks for the broker fails at once (test/support/kafka.ts).
          globalSetup: ['test/support/run.global.ts'],
          // One module graph per worker instead of per file: loading the connector again for every
          // file cost more than running the tests. Unit files keep no state between files.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: [KAFKA_FILES, ...PROCESS_FILES],
          // The broker first: the run's own teardown (names and folders) runs before it is stopped.
          globalSetup: ['test/support/kafka.global.ts', 'test/support/run.global.ts'],
        },
      },
    ],
  },
});
