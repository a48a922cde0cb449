/**
 * Which test file runs in which vitest project (vitest.config.ts): `unit` needs nothing but Node —
 * no broker, no Redis, no promtool, no child process — and runs in under a minute; `integration`
 * holds everything else. test/support/test-projects.test.ts checks the unit files keep to that.
 */

/** Files that need Kafka say so in their name. */
export const KAFKA_FILES = 'test/**/*.kafka.test.ts';

/**
 * Files that need Redis or promtool, or start child processes (the CLI, the sandbox, an LSP server,
 * the staged image), or must have a process of their own.
 */
export const PROCESS_FILES = [
  'test/adapters/config/config-docs.test.ts',
  'test/adapters/redis/shared-window.test.ts',
  'test/apps/check/check-offline.test.ts',
  'test/apps/check/quota-store-probe.test.ts',
  'test/apps/mapping-test/mapping-test.test.ts',
  'test/cli/log-level.test.ts',
  'test/cli/main.test.ts',
  'test/core/pipeline/held-memory.test.ts',
  'test/deploy/promtool.test.ts',
  'test/editors/yaml-language-server.test.ts',
  'test/layers.test.ts',
  'test/packaging/packaging.test.ts',
  'test/packaging/test-script.test.ts',
  'test/scripts/redis-script.test.ts',
  'test/support/image-stage.test.ts',
  'test/tools/sandbox/cli.test.ts',
];

/** Every test file. */
export const ALL_FILES = 'test/**/*.test.ts';

/** True when a test file (path from the repository root) belongs to the integration project. */
export function isIntegrationFile(path: string): boolean {
  return path.endsWith('.kafka.test.ts') || PROCESS_FILES.includes(path);
}
