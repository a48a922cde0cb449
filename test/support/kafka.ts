import { inject } from 'vitest';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { mapKafkaLogEntry } from '../../connector/adapters/kafka/log-entries.js';
import { retryingKafka } from '../../connector/adapters/kafka/retriable.js';
import { fileNamePrefix } from './test-run.js';

// The name of what it makes, for the tests that make topics and groups.
export { uniqueName as uniqueTopic } from './test-run.js';

/** Brokers of the cluster the global setup started or was given. */
export function testBrokers(): string[] {
  const brokers = inject('kafkaBrokers');
  if (!brokers) throw new Error('this test asks for Kafka, which the unit project does not start: name its file *.kafka.test.ts (vitest.config.ts)');
  return brokers;
}

/**
 * A kafkajs client for tests, quiet unless something is wrong: its lines are judged as the
 * connector judges its own (a coordinator loading, a rebalance or a retried request is no error),
 * so a passing test prints no error line, and what kafkajs only warns about still shows.
 */
export function testKafka(clientId = 'test'): Kafka {
  return new Kafka({
    clientId,
    brokers: testBrokers(),
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => {
      const mapped = mapKafkaLogEntry(entry);
      if (mapped.level === 'warn') console.warn(`kafkajs (${clientId}): ${mapped.message}`, mapped.fields);
    },
  });
}

/** Creates topics with the admin client (KRaft auto-creation races with the first fetch). */
export async function createTopics(names: string[], numPartitions = 1): Promise<void> {
  // Only names from uniqueTopic are cleaned up after the file; anything else would stay on the cluster.
  const stray = names.filter((name) => !name.startsWith(fileNamePrefix()));
  if (stray.length > 0) throw new Error(`test topics must be named with uniqueTopic(), so that they are deleted: ${stray.join(', ')}`);
  const admin: Admin = testKafka('test-admin').admin();
  await admin.connect();
  try {
    // A broker that just started may answer UNKNOWN_TOPIC_OR_PARTITION while waiting for leaders;
    // creating again is harmless (an existing topic is left as it is).
    await retryingKafka(() => admin.createTopics({ waitForLeaders: true, topics: names.map((topic) => ({ topic, numPartitions })) }));
  } finally {
    await admin.disconnect();
  }
}
