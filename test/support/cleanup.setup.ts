/**
 * Runs in every test file: once the file ends, its temporary folders are removed and its topics and
 * consumer groups deleted, also when a test failed. The run's global teardown catches anything left.
 */
import { rm } from 'node:fs/promises';
import { afterAll } from 'vitest';
import { fileNamePrefix, fileTempRoot, kafkaNamesHandedOut } from './test-run.js';

// Short: a group still in use after this is the run's teardown to wait for, not every file's.
const GROUP_PATIENCE_MS = 10_000;

afterAll(async () => {
  await rm(fileTempRoot(), { recursive: true, force: true });
  if (!kafkaNamesHandedOut()) return;
  // Loaded only here, so that files which never name a topic (every unit file) do not load kafkajs.
  const [{ deleteKafkaNames }, { testBrokers }] = await Promise.all([import('./kafka-cleanup.js'), import('./kafka.js')]);
  const left = await deleteKafkaNames(testBrokers(), fileNamePrefix(), { patienceMs: GROUP_PATIENCE_MS });
  if (left.length > 0) console.warn(`left for the end of the run to delete: ${left.join(', ')}`);
});
