/**
 * A Kafka broker that goes away mid-run is an outage, reported like one: one warning when it
 * stops answering, one when it answers again, no error-level line, and nothing lost. The broker
 * is a private one (its own ports and folder) so that stopping it disturbs no other test.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import type { Type } from 'avsc';
import { parse, stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { RUN_EXIT } from '../../../connector/apps/run/run.js';
import { retryingKafka } from '../../../connector/adapters/kafka/retriable.js';
import type { SampleEvent } from '../../../connector/tools/sample-events.js';
import { runChild } from '../../support/child-run.js';
import {
  exitOf,
  expectedProfiles,
  partitionOf,
  profilesOf,
  sampleEvents,
  sampleSchemas,
  TestResources,
  waitFor,
  writeWorkspace,
  type TestTopics,
} from '../../support/delivery-harness.js';
import { privateBroker, runKafkaScript, type PrivateBroker } from '../../support/local-broker.js';

const PARTITIONS = 3;
/** Longer than the tracker's grace (5 s) and than a session timeout, so the group really has to recover. */
const DOWN_MS = 20_000;

const resources = new TestResources();
afterEach(() => resources.closeAll());

/** Starts the private broker (stopped after the test, its folder removed after the file). */
async function startBroker(broker: PrivateBroker): Promise<void> {
  const started = await runKafkaScript(['start'], broker.env);
  if (started.code !== 0) throw new Error(`the private broker did not start: ${started.stderr}`);
}

/** Creates the sample topics on `kafka` under a fixed prefix: the whole broker is this test's. */
async function createTopics(kafka: Kafka): Promise<TestTopics> {
  const byKind = { 'crm.customer.updated': 'o.crm', 'loyalty.card.swiped': 'o.loyalty', 'transaction.completed': 'o.txn' } as TestTopics['byKind'];
  const topics: TestTopics = { prefix: 'o', byKind, deadLetter: 'o.dlq', all: Object.values(byKind) };
  const admin = kafka.admin();
  await admin.connect();
  try {
    await retryingKafka(() =>
      admin.createTopics({
        waitForLeaders: true,
        topics: [...topics.all.map((topic) => ({ topic, numPartitions: PARTITIONS })), { topic: topics.deadLetter, numPartitions: 1 }],
      }),
    );
  } finally {
    await admin.disconnect();
  }
  return topics;
}

/** Produces `events` as plain Avro keyed by customer, as the connector's mapping reads them. */
async function produce(kafka: Kafka, topics: TestTopics, events: SampleEvent[]): Promise<void> {
  const types = await sampleSchemas();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    await producer.sendBatch({
      acks: -1,
      topicMessages: events.map((e) => ({
        topic: topics.byKind[e.topic],
        messages: [{ key: e.key, value: (types.get(e.topic) as Type).toBuffer(e.value), partition: partitionOf(e.key, PARTITIONS) }],
      })),
    });
  } finally {
    await producer.disconnect();
  }
}

/** Messages between the group's committed offsets and the ends of the topics. */
async function uncommitted(kafka: Kafka, groupId: string, topics: string[]): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    let left = 0;
    const committed = await retryingKafka(() => admin.fetchOffsets({ groupId, topics }));
    for (const { topic, partitions } of committed) {
      const ends = await admin.fetchTopicOffsets(topic);
      for (const end of ends) {
        const at = Number(partitions.find((p) => p.partition === end.partition)?.offset ?? -1);
        left += Number(end.high) - Math.max(at, 0);
      }
    }
    return left;
  } finally {
    await admin.disconnect();
  }
}

describe('a Kafka broker outage mid-run', () => {
  it('is reported once when it starts and once when it ends, with no error line, and loses nothing', async () => {
    const broker = await privateBroker();
    await startBroker(broker);
    resources.add(() => runKafkaScript(['stop'], broker.env));
    const kafka = new Kafka({ clientId: 'broker-outage-test', brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING });
    const topics = await createTopics(kafka);
    const before = sampleEvents(1500, 300, 11);
    const after = sampleEvents(1500, 300, 12);
    await produce(kafka, topics, before);

    const target = await resources.sandbox({ latencyMs: 2 });
    const groupId = 'o.group';
    const configPath = writeWorkspace({ topics, targetUrl: target.url, groupId });
    const config = parse(readFileSync(configPath, 'utf8')) as { kafka: { brokers: string[] } };
    config.kafka.brokers = [`127.0.0.1:${broker.port}`];
    writeFileSync(configPath, stringify(config));

    const run = runChild(resources, configPath);
    await waitFor('the run to deliver', () => target.stats().updates > 100, 60_000, 50);
    const stopped = await runKafkaScript(['stop'], broker.env);
    expect(stopped.code).toBe(0);
    const down = () => run.lines().filter((l) => /cannot be reached/.test(String(l.msg)));
    await waitFor('the outage warning', () => down().length > 0, DOWN_MS, 200);
    await new Promise((resolve) => setTimeout(resolve, DOWN_MS - 5_000));
    await startBroker(broker);
    await produce(kafka, topics, after);
    await waitFor('everything committed after the outage', async () => (await uncommitted(kafka, groupId, topics.all)) === 0, 120_000, 500).catch(
      async (error: Error) => {
        // Say what the run was doing: a bare timeout on a loaded machine tells nothing.
        const left = await uncommitted(kafka, groupId, topics.all);
        const tail = run
          .lines()
          .slice(-8)
          .map((l) => String(l.msg));
        throw new Error(`${error.message}; ${left} events uncommitted; the run's last lines: ${JSON.stringify(tail)}`);
      },
    );

    run.child.kill('SIGTERM');
    expect((await exitOf(run.child)).code).toBe(RUN_EXIT.ok);
    const lines = run.lines();
    expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(down()).toHaveLength(1);
    expect(lines.filter((l) => /answers again/.test(String(l.msg)) && /Kafka/.test(String(l.msg)))).toHaveLength(1);
    const expected = expectedProfiles([...before, ...after]);
    expect(profilesOf(target, expected.keys())).toEqual(expected);
  }, 240_000);
});
