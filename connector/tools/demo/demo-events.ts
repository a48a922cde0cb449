/**
 * The demo's traffic: realistic sample events encoded as plain Avro with the sample schemas, keyed
 * by customer id, plus a couple of deliberately malformed events that must end in the dead-letter topic.
 */
import type { Type } from 'avsc';
import { Partitioners, type Kafka, type Message } from 'kafkajs';
import { generateSampleEvents, SAMPLE_TOPICS, type SampleEvent, type SampleTopic } from '../sample-events.js';
import { loadAvroSchema } from '../../adapters/mapping-file/schema-file.js';
import type { DemoTopics } from './demo-topics.js';
import { packageFile } from './package-files.js';

/** One record to produce. */
export interface DemoMessage {
  topic: string;
  key: string;
  value: Buffer;
}

/** A malformed record and why the connector cannot deliver it. */
export interface MalformedEvent extends DemoMessage {
  problem: string;
}

/** Everything the demo produces, in production order. */
export interface DemoTraffic {
  messages: DemoMessage[];
  /** How many of `messages` are well-formed sample events. */
  sampleCount: number;
  malformed: MalformedEvent[];
  /** Customer ids, most events first: the profiles most worth reading back. */
  busiestCustomers: string[];
}

/** How much traffic to generate. */
export interface DemoTrafficOptions {
  events: number;
  customers: number;
}

// One seed for every run, so every demo tells the same story (topic names keep runs apart).
const SEED = 1;

const SCHEMA_FILES: Record<SampleTopic, string> = {
  [SAMPLE_TOPICS.crm]: 'schemas/crm-customer-updated.avsc',
  [SAMPLE_TOPICS.loyalty]: 'schemas/loyalty-card-swiped.avsc',
  [SAMPLE_TOPICS.transaction]: 'schemas/transaction-completed.avsc',
};

/** The three sample schemas shipped with the package, by sample topic. */
export async function loadSampleSchemas(): Promise<Map<SampleTopic, Type>> {
  const entries = await Promise.all(
    Object.entries(SCHEMA_FILES).map(async ([topic, file]) => [topic as SampleTopic, await loadAvroSchema(packageFile(file))] as const),
  );
  return new Map(entries);
}

/** Builds the sample events and the malformed ones; the malformed sit mid-stream, where a poison event would hurt most. */
export function buildDemoTraffic(schemas: Map<SampleTopic, Type>, topics: DemoTopics, options: DemoTrafficOptions): DemoTraffic {
  const encode = (event: SampleEvent): DemoMessage => ({
    topic: topics.bySample[event.topic],
    key: event.key,
    value: schemaOf(schemas, event.topic).toBuffer(event.value),
  });
  const events = generateSampleEvents({ count: options.events, customers: options.customers, seed: SEED });
  const malformed = malformedEvents(schemas, topics);
  const messages = events.map(encode);
  messages.splice(Math.floor(messages.length / 2), 0, ...malformed);
  return { messages, sampleCount: events.length, malformed, busiestCustomers: byActivity(events) };
}

/** Produces every message exactly once (an abort stops between batches); the default partitioner spreads keys over partitions. */
export async function produceDemoTraffic(kafka: Kafka, messages: readonly DemoMessage[], signal?: AbortSignal): Promise<void> {
  // Idempotent: just after topic creation the broker may answer "not the leader" for some
  // partitions of a batch, and a plain producer's retry would then duplicate the others.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    // Bounded batches keep each request well under the broker's default 1 MB message-set limit.
    for (let start = 0; start < messages.length; start += 1000) {
      signal?.throwIfAborted();
      const byTopic = new Map<string, Message[]>();
      for (const { topic, key, value } of messages.slice(start, start + 1000)) {
        byTopic.set(topic, [...(byTopic.get(topic) ?? []), { key, value }]);
      }
      await producer.sendBatch({ acks: -1, topicMessages: [...byTopic].map(([topic, list]) => ({ topic, messages: list })) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** Two faults seen in real pipelines: a producer writing JSON, and an id Target refuses. */
function malformedEvents(schemas: Map<SampleTopic, Type>, topics: DemoTopics): MalformedEvent[] {
  const json = { eventId: 'demo-json-1', eventType: 'UPDATED', customer: { id: 'C-000001', tier: 'GOLD' } };
  const [swipe] = generateSampleEvents({ count: 1, seed: 99, topics: [SAMPLE_TOPICS.loyalty] });
  if (!swipe) throw new Error('the sample generator returned no loyalty event');
  const card = swipe.value.card as Record<string, unknown>;
  const partnerId = `${String(card.customerId)}/B2B`;
  return [
    {
      topic: topics.bySample[SAMPLE_TOPICS.crm],
      key: 'C-000001',
      value: Buffer.from(JSON.stringify(json)),
      problem: 'JSON where Avro is expected (a misconfigured producer)',
    },
    {
      topic: topics.bySample[SAMPLE_TOPICS.loyalty],
      key: partnerId,
      value: schemaOf(schemas, SAMPLE_TOPICS.loyalty).toBuffer({ ...swipe.value, card: { ...card, customerId: partnerId } }),
      problem: 'a customer id with "/", which Target refuses in mbox3rdPartyId',
    },
  ];
}

function schemaOf(schemas: Map<SampleTopic, Type>, topic: SampleTopic): Type {
  const type = schemas.get(topic);
  if (!type) throw new Error(`no schema loaded for ${topic}`);
  return type;
}

/** Customer ids ordered by how many events name them (ties by id, for a stable order). */
function byActivity(events: readonly SampleEvent[]): string[] {
  const counts = new Map<string, number>();
  for (const { key } of events) counts.set(key, (counts.get(key) ?? 0) + 1);
  return [...counts].sort(([a, x], [b, y]) => y - x || a.localeCompare(b)).map(([id]) => id);
}
