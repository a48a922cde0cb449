/** The cleanup every test file and run relies on: deleting topics and groups by name prefix. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './delivery-harness.js';
import { deleteKafkaNames } from './kafka-cleanup.js';
import { createTopics, testBrokers, testKafka, uniqueTopic } from './kafka.js';

const admin = testKafka('cleanup-test').admin();

beforeAll(async () => {
  await admin.connect();
});

afterAll(async () => {
  await admin.disconnect();
});

/** Topics and groups on the cluster, seen by a fresh client (one that set offsets refreshes metadata of those topics, and fails once they are deleted). */
async function names(): Promise<{ topics: string[]; groups: string[] }> {
  const fresh = testKafka('cleanup-test-lister').admin();
  await fresh.connect();
  try {
    return { topics: await fresh.listTopics(), groups: (await fresh.listGroups()).groups.map((g) => g.groupId) };
  } finally {
    await fresh.disconnect();
  }
}

describe('deleteKafkaNames', () => {
  it('deletes the topics and groups under the prefix and nothing else', async () => {
    const doomed = uniqueTopic('doomed');
    const kept = uniqueTopic('kept');
    await createTopics([`${doomed}.a`, `${doomed}.b`, kept]);
    await admin.setOffsets({ groupId: `${doomed}.group`, topic: `${doomed}.a`, partitions: [{ partition: 0, offset: '0' }] });
    await admin.setOffsets({ groupId: `${kept}.group`, topic: kept, partitions: [{ partition: 0, offset: '0' }] });

    expect(await deleteKafkaNames(testBrokers(), `${doomed}.`, { patienceMs: 10_000 })).toEqual([]);

    const { topics, groups } = await names();
    expect(topics.filter((t) => t.startsWith(doomed))).toEqual([]);
    expect(topics).toContain(kept);
    expect(groups).not.toContain(`${doomed}.group`);
    expect(groups).toContain(`${kept}.group`);
  });

  it('reports a group whose consumer is still connected, and deletes it once the consumer left', async () => {
    const topic = uniqueTopic('busy');
    await createTopics([topic]);
    const consumer = testKafka('cleanup-busy').consumer({ groupId: `${topic}.group` });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic] });
      let joined = false;
      consumer.on(consumer.events.GROUP_JOIN, () => (joined = true));
      await consumer.run({ eachMessage: async () => {} });
      await waitFor('the consumer joined its group', () => joined, 30_000);

      // Only the group: deleting the topic under a running consumer would have it auto-created again.
      expect(await deleteKafkaNames(testBrokers(), `${topic}.group`, { patienceMs: 1000 })).toEqual([`group ${topic}.group`]);
    } finally {
      await consumer.disconnect();
    }
    expect(await deleteKafkaNames(testBrokers(), `${topic}.group`, { patienceMs: 10_000 })).toEqual([]);
    expect((await names()).groups).not.toContain(`${topic}.group`);
  });
});
