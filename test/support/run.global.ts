import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { deleteKafkaNames } from './kafka-cleanup.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Every topic and consumer group of this run starts with it (`tps-test.<run id>.`). */
    testRunPrefix: string;
    /** Every temporary folder of this run is inside it. */
    testTempRoot: string;
  }
}

// Long enough for the members of a consumer a failed test left connected to time out (kafkajs: 30 s).
const GROUP_PATIENCE_MS = 45_000;

/**
 * Gives the run its name prefix and temporary folder; at its end deletes every topic and group
 * under that prefix (and nothing else, so a shared cluster keeps what others made) and the folder.
 * Listed after kafka.global.ts, so it ends before the broker is stopped; in the unit project, which
 * has no broker, it only gives and removes the folder.
 */
export default function setup(project: TestProject): () => Promise<void> {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const prefix = `tps-test.${runId}.`;
  const tempRoot = join(tmpdir(), `tps-test-${runId}`);
  mkdirSync(tempRoot);
  project.provide('testRunPrefix', prefix);
  project.provide('testTempRoot', tempRoot);
  // Problems are said, not thrown: a throwing teardown would skip kafka.global.ts's and leave its broker running.
  return async () => {
    rmSync(tempRoot, { recursive: true, force: true });
    const brokers = project.getProvidedContext().kafkaBrokers;
    if (!brokers) return;
    const removeBy = `bash scripts/kafka.sh topics --delete --topic '${prefix}.*' and bash scripts/kafka.sh groups --delete --group <group>`;
    try {
      const left = await deleteKafkaNames(brokers, prefix, { patienceMs: GROUP_PATIENCE_MS });
      if (left.length > 0) console.error(`\nthe test run could not delete (a consumer still connected?): ${left.join(', ')}; remove them with ${removeBy}\n`);
    } catch (err) {
      console.error(`\nthe test run could not delete its topics and groups ${prefix}*: ${String(err)}; remove them with ${removeBy}\n`);
    }
  };
}
