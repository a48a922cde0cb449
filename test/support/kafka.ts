import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { Kafka, logLevel, type Admin } from 'kafkajs';

/** Brokers of the cluster the global setup started or was given. */
export function testBrokers(): string[] {
  return inject('kafkaBrokers');
}

/** A kafkajs client for tests, quiet unless something is wrong. */
export function testKafka(clientId = 'test'): Kafka {
  return new Kafka({ clientId, brokers: testBrokers(), logLevel: logLevel.ERROR });
}

/** A topic name no other test uses. */
export function uniqueTopic(prefix: string): string {
  return `${prefix}.${randomUUID().slice(0, 8)}`;
}

/** Creates topics with the admin client (KRaft auto-creation races with the first fetch). */
export async function createTopics(names: string[], numPartitions = 1): Promise<void> {
  const admin: Admin = testKafka('test-admin').admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: names.map((topic) => ({ topic, numPartitions })) });
  } finally {
    await admin.disconnect();
  }
}
