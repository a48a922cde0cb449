/**
 * Set-up for the replay integration tests: a source topic and a dead-letter topic of their own,
 * a workspace with config and mapping, CRM events built by hand, dead letters written the way the
 * connector writes them, and a connector run until it committed the source partition's end.
 * Everything a workspace creates is removed by `remove()`.
 */
import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Type } from 'avsc';
import { Partitioners, type IHeaders, type KafkaMessage } from 'kafkajs';
import { stringify } from 'yaml';
import { DeadLetterWriter } from '../../connector/adapters/kafka/dead-letter-writer.js';
import { replayGroupId } from '../../connector/apps/replay/replay.js';
import { loadAvroSchema } from '../../connector/adapters/mapping-file/schema-file.js';
import { TargetError } from '../../connector/core/errors.js';
import { createLogger } from '../../connector/observe/logger.js';
import { committedOffsets, ROOT, startTestSink, waitFor } from './delivery-harness.js';
import { createTopics, testBrokers, testKafka, uniqueTopic } from './kafka.js';
import { testTempDir } from './test-run.js';

const quiet = createLogger({ level: 'silent' });

/** The parts of a CRM customer event the replay tests vary. */
export interface CrmFacts {
  id: string;
  tier: 'BRONZE' | 'SILVER' | 'GOLD' | 'PLATINUM';
  updatedAt: Date;
  email?: string | null;
  city?: string | null;
}

/** A UUID derived from the facts, so that the same facts always encode to the same bytes. */
function eventIdOf(facts: CrmFacts): string {
  const hex = createHash('sha256').update(JSON.stringify(facts)).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A complete `crm-customer-updated.avsc` value; a null email or city leaves the attribute out. */
export function crmEvent(facts: CrmFacts): Record<string, unknown> {
  return {
    eventId: eventIdOf(facts),
    eventType: 'UPDATED',
    updatedAt: facts.updatedAt,
    source: 'crm',
    customer: {
      id: facts.id,
      email: facts.email ?? null,
      firstName: null,
      lastName: null,
      birthDate: null,
      tier: facts.tier,
      contact: { phone: null, mobile: null, preferredChannel: 'EMAIL' },
      address: facts.city === undefined || facts.city === null ? null : { street: null, city: facts.city, postalCode: null, country: 'SE' },
      consent: { email: true, sms: false, personalization: true },
      lifetimeValue: null,
    },
    preferences: { categories: [], language: null },
    customFields: {},
  };
}

/** The attributes the replay tests map from a CRM event; every one optional in the event but `tier` and `lastUpdated`. */
export type CrmAttribute = 'tier' | 'lastUpdated' | 'email' | 'city';

const CRM_ATTRIBUTES: Record<CrmAttribute, unknown> = {
  tier: { path: 'customer.tier', transform: 'lowercase' },
  lastUpdated: { path: 'updatedAt', transform: 'iso8601' },
  email: 'customer.email',
  city: 'customer.address.city',
};

/** One test's topics, groups and files; `remove()` deletes all of them. */
export class ReplayWorkspace {
  private constructor(
    readonly source: string,
    readonly deadLetter: string,
    readonly groupId: string,
    readonly configPath: string,
    private readonly crmType: Type,
  ) {}

  /** Creates the topics (one partition each) and writes config and mapping (the given CRM attributes) for a Target at `targetUrl`. */
  static async create(targetUrl: string, attributes: CrmAttribute[]): Promise<ReplayWorkspace> {
    const source = uniqueTopic('replay-superseded.crm');
    const deadLetter = uniqueTopic('replay-superseded.dlq');
    const groupId = uniqueTopic('replay-superseded.group');
    const dir = await testTempDir('replay-superseded');
    const schema = join(ROOT, 'schemas/crm-customer-updated.avsc');
    const mapping = {
      version: 1,
      mappings: [
        {
          topic: source,
          schema,
          identity: { mbox3rdPartyId: 'customer.id' },
          attributes: Object.fromEntries(attributes.map((name) => [name, CRM_ATTRIBUTES[name]])),
        },
      ],
    };
    const config = {
      kafka: { brokers: testBrokers(), group_id: groupId, from_beginning: true, session_timeout_ms: 10_000 },
      target: { client_code: 'acme', base_url: targetUrl, timeout_ms: 2000 },
      mapping_file: 'mapping.yaml',
      delivery: { dead_letter_topic: deadLetter, commit_interval_ms: 100, shutdown_timeout_ms: 5000 },
      metrics: { port: 0 },
    };
    const configPath = join(dir, 'config.yaml');
    const workspace = new ReplayWorkspace(source, deadLetter, groupId, configPath, await loadAvroSchema(schema));
    try {
      await writeFile(join(dir, 'mapping.yaml'), stringify(mapping));
      await writeFile(configPath, stringify(config));
      await createTopics([source, deadLetter]);
    } catch (err) {
      await workspace.remove();
      throw err;
    }
    return workspace;
  }

  /** Produces CRM events to the source topic, keyed by customer; returns their offsets. */
  async produce(...events: CrmFacts[]): Promise<number[]> {
    const producer = testKafka('replay-superseded-producer').producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await producer.connect();
    try {
      const offsets: number[] = [];
      for (const facts of events) {
        const [meta] = await producer.send({ topic: this.source, acks: -1, messages: [{ key: facts.id, value: this.encode(facts), partition: 0 }] });
        offsets.push(Number(meta?.baseOffset));
      }
      return offsets;
    } finally {
      await producer.disconnect();
    }
  }

  /** The Avro bytes of a CRM event, as the source topic holds them. */
  encode(facts: CrmFacts): Buffer {
    return this.crmType.toBuffer(crmEvent(facts));
  }

  /** Writes the dead letter the connector would write for the event `facts` at `offset` of the source topic, refused by Target. */
  async writeDeadLetter(facts: CrmFacts, offset: number, headers?: IHeaders): Promise<void> {
    const producer = testKafka('replay-superseded-dlq').producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    try {
      await new DeadLetterWriter(producer, this.deadLetter, quiet).write({
        key: Buffer.from(facts.id),
        value: this.encode(facts),
        headers,
        topic: this.source,
        partition: 0,
        offset: String(offset),
        error: new TargetError('HTTP 400', false, { status: 400 }),
        attempts: 1,
        failedAt: new Date(),
      });
    } finally {
      await producer.disconnect();
    }
  }

  /**
   * Commits `offset` for the connector's group on the source partition, as the connector does
   * once it dead-lettered the events before it.
   */
  async commitConnector(offset: number): Promise<void> {
    const admin = testKafka('replay-superseded-admin').admin();
    await admin.connect();
    try {
      await admin.setOffsets({ groupId: this.groupId, topic: this.source, partitions: [{ partition: 0, offset: String(offset) }] });
    } finally {
      await admin.disconnect();
    }
  }

  /** The source partition's end offset. */
  async sourceEnd(): Promise<number> {
    const admin = testKafka('replay-superseded-admin').admin();
    await admin.connect();
    try {
      const [p0] = await admin.fetchTopicOffsets(this.source);
      return Number(p0?.high);
    } finally {
      await admin.disconnect();
    }
  }

  /** Runs the connector until it committed the source partition's current end, then stops it. */
  async deliver(): Promise<void> {
    const end = await this.sourceEnd();
    const sink = await startTestSink(this.configPath);
    try {
      await waitFor(
        `the connector to commit ${this.source}[0]@${end}`,
        async () => ((await committedOffsets(this.groupId, [this.source])).get(`${this.source}|0`) ?? -1) >= end,
        20_000,
      );
    } finally {
      await sink.stop();
    }
  }

  /** Every record of the source topic, read with a group of its own that is deleted afterwards. */
  async sourceRecords(): Promise<KafkaMessage[]> {
    const end = await this.sourceEnd();
    const kafka = testKafka('replay-superseded-reader');
    const groupId = uniqueTopic('replay-superseded.reader');
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    const records: KafkaMessage[] = [];
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.source], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`read ${records.length} of ${end} records of ${this.source}`)), 20_000);
        if (end === 0) resolve();
        void consumer.run({
          eachMessage: async ({ message }) => {
            records.push(message);
            if (records.length >= end) {
              clearTimeout(timer);
              resolve();
            }
          },
        });
      });
    } finally {
      await consumer.disconnect();
      await deleteGroups([groupId]);
    }
    return records;
  }

  /** Deletes the topics, the connector's and the replay's groups, and the workspace folder. */
  async remove(): Promise<void> {
    await deleteGroups([this.groupId, replayGroupId(this.groupId)]);
    const admin = testKafka('replay-superseded-admin').admin();
    await admin.connect();
    try {
      const existing = await admin.listTopics();
      const topics = [this.source, this.deadLetter].filter((t) => existing.includes(t));
      if (topics.length > 0) await admin.deleteTopics({ topics });
    } finally {
      await admin.disconnect();
    }
    await rm(dirname(this.configPath), { recursive: true, force: true });
  }
}

/** Deletes the groups that exist among `groupIds`. */
async function deleteGroups(groupIds: string[]): Promise<void> {
  const admin = testKafka('replay-superseded-admin').admin();
  await admin.connect();
  try {
    const { groups } = await admin.listGroups();
    const existing = groupIds.filter((id) => groups.some((g) => g.groupId === id));
    if (existing.length > 0) await admin.deleteGroups(existing);
  } finally {
    await admin.disconnect();
  }
}

/** Consumer groups whose name starts with `prefix` (e.g. the replay's throwaway scan groups). */
export async function groupsStartingWith(prefix: string): Promise<string[]> {
  const admin = testKafka('replay-superseded-admin').admin();
  await admin.connect();
  try {
    const { groups } = await admin.listGroups();
    return groups.map((g) => g.groupId).filter((id) => id.startsWith(prefix));
  } finally {
    await admin.disconnect();
  }
}
