/** `scripts/kafka.sh topics|groups`: Kafka's own admin tools against the test cluster. */
import { Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTopics, testBrokers, testKafka, uniqueTopic } from '../support/kafka.js';
import { runKafkaScript } from '../support/local-broker.js';
import { waitFor } from '../support/delivery-harness.js';

const admin = testKafka('admin-tools-test').admin();
const bootstrap = () => ['--bootstrap-server', testBrokers().join(',')];
const tool = (...args: string[]) => runKafkaScript(args, process.env);

beforeAll(async () => {
  await admin.connect();
});

afterAll(async () => {
  await admin.disconnect();
});

describe('kafka.sh topics', () => {
  it('creates, describes and deletes a topic', async () => {
    const topic = uniqueTopic('tools');
    const created = await tool('topics', '--create', '--topic', topic, '--partitions', '2', ...bootstrap());
    expect(created, created.stderr).toMatchObject({ code: 0, stdout: expect.stringContaining(`Created topic ${topic}.`) as string });
    expect(await admin.listTopics()).toContain(topic);

    const described = await tool('topics', '--describe', '--topic', topic, ...bootstrap());
    expect(described.code).toBe(0);
    expect(described.stdout).toContain(`Topic: ${topic}\t`);
    expect(described.stdout).toContain('PartitionCount: 2\t');

    const deleted = await tool('topics', '--delete', '--topic', topic, ...bootstrap());
    expect(deleted, deleted.stderr).toMatchObject({ code: 0 });
    await waitFor(`${topic} deleted`, async () => !(await admin.listTopics()).includes(topic), 10_000);
  }, 60_000);

  it.skipIf(process.env.KAFKA_BROKERS !== undefined)(
    'talks to 127.0.0.1:$KAFKA_PORT when no --bootstrap-server is given',
    async () => {
      const topic = uniqueTopic('tools-default');
      await createTopics([topic]);
      const port = (testBrokers()[0] as string).split(':')[1];
      const listed = await runKafkaScript(['topics', '--list'], { ...process.env, KAFKA_PORT: port });
      expect(listed, listed.stderr).toMatchObject({ code: 0 });
      expect(listed.stdout.split('\n')).toContain(topic);
    },
    30_000,
  );
});

describe('kafka.sh groups', () => {
  it("resets a group's offsets to the earliest, and deletes the group", async () => {
    const topic = uniqueTopic('tools-offsets');
    const group = `${topic}.group`;
    await createTopics([topic], 2);
    const producer = testKafka('admin-tools-producer').producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      for (const partition of [0, 1]) {
        await producer.send({ topic, acks: -1, messages: [0, 1, 2].map((i) => ({ value: `m${i}`, partition })) });
      }
    } finally {
      await producer.disconnect();
    }
    await admin.setOffsets({ groupId: group, topic, partitions: [0, 1].map((partition) => ({ partition, offset: '3' })) });
    const committed = async () =>
      (await admin.fetchOffsets({ groupId: group, topics: [topic] }))[0]?.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset);
    expect(await committed()).toEqual(['3', '3']);

    const reset = await tool('groups', '--group', group, '--topic', topic, '--reset-offsets', '--to-earliest', '--execute', ...bootstrap());
    expect(reset, reset.stderr).toMatchObject({ code: 0 });
    expect(reset.stdout).toContain('NEW-OFFSET');
    expect(await committed()).toEqual(['0', '0']);

    const deleted = await tool('groups', '--delete', '--group', group, ...bootstrap());
    expect(deleted, deleted.stderr).toMatchObject({ code: 0 });
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain(group);
  }, 60_000);
});
