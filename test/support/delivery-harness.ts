/**
 * Shared set-up for the delivery integration tests: unique topics on the real broker, a
 * workspace with config and mapping files, sample events produced with known offsets, and the
 * expected final profiles computed straight from the events (not through the mapping engine).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Type } from 'avsc';
import { Partitioners } from 'kafkajs';
import { stringify } from 'yaml';
import { loadConfig } from '../../connector/adapters/config/load.js';
import { loadAvroSchema } from '../../connector/adapters/mapping-file/schema-file.js';
import { createLogger } from '../../connector/observe/logger.js';
import { createMetrics } from '../../connector/observe/metrics.js';
import { pipelineObservers } from '../../connector/observe/pipeline-observers.js';
import { RunStats } from '../../connector/observe/run-stats.js';
import { startSink, type RunningSink } from '../../connector/apps/common/kafka-sink.js';
import { retryingKafka } from '../../connector/adapters/kafka/retriable.js';
import type { SandboxOptions } from '../../connector/tools/sandbox/options.js';
import { startSandbox, type Sandbox } from '../../connector/tools/sandbox/server.js';
import type { KafkaSourceObserver, SourceRecord } from '../../connector/adapters/kafka/consumer.js';
import type { CommitObserver } from '../../connector/core/acks/commit-policy.js';
import { generateSampleEvents, SAMPLE_TOPICS, type SampleEvent, type SampleTopic } from '../../connector/tools/sample-events.js';
import type { Decimal } from '../../connector/core/values.js';
import { createTopics, testBrokers, testKafka } from './kafka.js';
import { testTempDirSync } from './test-run.js';

export const ROOT = resolve(import.meta.dirname, '../..');

/** Topic names of one test, so tests sharing the broker never see each other's events. */
export interface TestTopics {
  prefix: string;
  byKind: Record<SampleTopic, string>;
  deadLetter: string;
  all: string[];
}

/** Creates the three sample topics (and a dead-letter topic) under a prefix from uniqueTopic(), deleted after the file. */
export async function createTestTopics(prefix: string, partitions: number): Promise<TestTopics> {
  const byKind = {
    [SAMPLE_TOPICS.crm]: `${prefix}.crm`,
    [SAMPLE_TOPICS.loyalty]: `${prefix}.loyalty`,
    [SAMPLE_TOPICS.transaction]: `${prefix}.txn`,
  } as Record<SampleTopic, string>;
  const deadLetter = `${prefix}.dlq`;
  await createTopics(Object.values(byKind), partitions);
  await createTopics([deadLetter], 1);
  return { prefix, byKind, deadLetter, all: Object.values(byKind) };
}

/** The mapping the delivery tests use: small enough to recompute its effect by hand. */
export function testMapping(topics: TestTopics): unknown {
  const schema = (name: string) => join(ROOT, 'schemas', name);
  return {
    version: 1,
    mappings: [
      {
        topic: topics.byKind[SAMPLE_TOPICS.crm],
        schema: schema('crm-customer-updated.avsc'),
        identity: { mbox3rdPartyId: 'customer.id' },
        when: [{ path: 'eventType', in: ['CREATED', 'UPDATED'] }],
        attributes: {
          tier: 'customer.tier',
          email: { path: 'customer.email', transform: ['trim', 'lowercase'] },
          city: 'customer.address.city',
          crmEventId: 'eventId',
        },
      },
      {
        topic: topics.byKind[SAMPLE_TOPICS.loyalty],
        schema: schema('loyalty-card-swiped.avsc'),
        identity: { mbox3rdPartyId: 'card.customerId' },
        attributes: { pointsBalance: 'pointsBalance', lastStoreId: 'store.id', swipeEventId: 'eventId' },
      },
      {
        topic: topics.byKind[SAMPLE_TOPICS.transaction],
        schema: schema('transaction-completed.avsc'),
        identity: { mbox3rdPartyId: 'customerId' },
        when: [{ path: 'customerId', exists: true }],
        attributes: { lastAmount: 'amount', lastCurrency: 'currency', txnId: 'transactionId' },
      },
    ],
  };
}

/** What one event should do to its profile, computed without the mapping engine. */
export function expectedEffect(event: SampleEvent): Record<string, string> | undefined {
  // The sample generator's shapes, as far as this function reads them.
  const v = event.value as {
    eventType: string;
    eventId: string;
    transactionId: string;
    customerId: string | null;
    currency: string;
    amount: Decimal;
    pointsBalance: number;
    store: { id: string };
    customer: { tier: string; email: string | null; address: { city: string | null } | null };
  };
  const put = (out: Record<string, string>, name: string, value: unknown) => {
    if (value !== null && value !== undefined && value !== '') out[name] = String(value);
  };
  const out: Record<string, string> = {};
  switch (event.topic) {
    case SAMPLE_TOPICS.crm:
      if (!['CREATED', 'UPDATED'].includes(v.eventType)) return undefined;
      put(out, 'tier', v.customer.tier);
      put(out, 'email', typeof v.customer.email === 'string' ? v.customer.email.trim().toLowerCase() : null);
      put(out, 'city', v.customer.address?.city);
      put(out, 'crmEventId', v.eventId);
      return out;
    case SAMPLE_TOPICS.loyalty:
      put(out, 'pointsBalance', v.pointsBalance);
      put(out, 'lastStoreId', v.store.id);
      put(out, 'swipeEventId', v.eventId);
      return out;
    case SAMPLE_TOPICS.transaction:
      if (v.customerId === null) return undefined;
      put(out, 'lastAmount', v.amount.toString());
      put(out, 'lastCurrency', v.currency);
      put(out, 'txnId', v.transactionId);
      return out;
  }
}

/** The final profiles the events should leave behind (events for one key keep their order). */
export function expectedProfiles(events: SampleEvent[]): Map<string, Record<string, string>> {
  const profiles = new Map<string, Record<string, string>>();
  for (const e of events) {
    const effect = expectedEffect(e);
    if (effect) profiles.set(e.key, { ...(profiles.get(e.key) ?? {}), ...effect });
  }
  return profiles;
}

/** One produced event with where it landed. */
export interface Produced {
  event: SampleEvent;
  topic: string;
  partition: number;
  offset: number;
}

/** Deterministic key → partition, so the test knows every event's partition and offset. */
export function partitionOf(key: string, partitions: number): number {
  let h = 0;
  for (const ch of key) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h % partitions;
}

let schemas: Map<SampleTopic, Type> | undefined;

/** The sample schemas as avsc types (with the connector's logical types). */
export async function sampleSchemas(): Promise<Map<SampleTopic, Type>> {
  schemas ??= new Map([
    [SAMPLE_TOPICS.crm, await loadAvroSchema(join(ROOT, 'schemas/crm-customer-updated.avsc'))],
    [SAMPLE_TOPICS.loyalty, await loadAvroSchema(join(ROOT, 'schemas/loyalty-card-swiped.avsc'))],
    [SAMPLE_TOPICS.transaction, await loadAvroSchema(join(ROOT, 'schemas/transaction-completed.avsc'))],
  ]);
  return schemas;
}

/** Produces events as plain Avro, keyed by customer, and returns each one's partition and offset. */
export async function produceEvents(
  topics: TestTopics,
  events: SampleEvent[],
  partitions: number,
  extra: Array<{ topic: string; key: string; value: Buffer | null }> = [],
  frame: (avro: Buffer) => Buffer = (avro) => avro,
): Promise<Produced[]> {
  const types = await sampleSchemas();
  // Idempotent: right after topic creation the broker may answer NOT_LEADER and kafkajs resends
  // the whole batch; without idempotence that duplicates events and shifts the offsets computed here.
  const producer = testKafka('producer').producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const produced: Produced[] = [];
  try {
    for (let start = 0; start < events.length; start += 2000) {
      const chunk = events.slice(start, start + 2000);
      const byTopicPartition = new Map<string, SampleEvent[]>();
      for (const e of chunk) {
        const k = `${topics.byKind[e.topic]}|${partitionOf(e.key, partitions)}`;
        byTopicPartition.set(k, [...(byTopicPartition.get(k) ?? []), e]);
      }
      const results = await producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopicPartition].map(([k, list]) => {
          const [topic, partition] = k.split('|') as [string, string];
          return {
            topic,
            messages: list.map((e) => ({
              key: e.key,
              value: frame((types.get(e.topic) as Type).toBuffer(e.value)),
              partition: Number(partition),
            })),
          };
        }),
      });
      for (const [k, list] of byTopicPartition) {
        const [topic, partition] = k.split('|') as [string, string];
        const meta = results.find((r) => r.topicName === topic && r.partition === Number(partition));
        if (!meta?.baseOffset) throw new Error(`no offset for ${k}`);
        list.forEach((event, i) => produced.push({ event, topic, partition: Number(partition), offset: Number(meta.baseOffset) + i }));
      }
    }
    if (extra.length > 0) await producer.send({ topic: extra[0]!.topic, acks: -1, messages: extra.map((m) => ({ key: m.key, value: m.value, partition: 0 })) });
  } finally {
    await producer.disconnect();
  }
  return produced;
}

/** Sample events for the tests: `count` events over `customers` customers. */
export function sampleEvents(count: number, customers: number, seed = 7): SampleEvent[] {
  return generateSampleEvents({ count, customers, seed });
}

export interface WorkspaceOptions {
  topics: TestTopics;
  targetUrl: string;
  groupId: string;
  delivery?: Record<string, unknown>;
  mapping?: unknown;
  schemaRegistryUrl?: string;
}

/** Writes config.yaml and mapping.yaml into a fresh folder (removed after the file); returns the config path. */
export function writeWorkspace(options: WorkspaceOptions): string {
  const dir = testTempDirSync('workspace');
  writeFileSync(join(dir, 'mapping.yaml'), stringify(options.mapping ?? testMapping(options.topics)));
  const config = {
    kafka: { brokers: testBrokers(), group_id: options.groupId, from_beginning: true, session_timeout_ms: 10_000 },
    target: { client_code: 'acme', base_url: options.targetUrl, timeout_ms: 2000 },
    mapping_file: 'mapping.yaml',
    delivery: {
      concurrency: 16,
      max_pending: 2000,
      dead_letter_topic: options.topics.deadLetter,
      commit_interval_ms: 200,
      initial_backoff_ms: 20,
      max_backoff_ms: 500,
      shutdown_timeout_ms: 10_000,
      ...options.delivery,
    },
    metrics: { port: 0 },
    ...(options.schemaRegistryUrl && { schema_registry: { url: options.schemaRegistryUrl } }),
  };
  const path = join(dir, 'config.yaml');
  writeFileSync(path, stringify(config));
  return path;
}

/** Committed offset per `topic|partition` for a group (absent when nothing is committed). */
export async function committedOffsets(groupId: string, topics: string[]): Promise<Map<string, number>> {
  const admin = testKafka('offsets').admin();
  await admin.connect();
  try {
    // A broker that just started may answer NOT_COORDINATOR, which the admin client does not retry.
    const result = await retryingKafka(() => admin.fetchOffsets({ groupId, topics }));
    const map = new Map<string, number>();
    for (const t of result) for (const p of t.partitions) if (Number(p.offset) >= 0) map.set(`${t.topic}|${p.partition}`, Number(p.offset));
    return map;
  } finally {
    await admin.disconnect();
  }
}

/** Polls until `check` returns true, or fails after `timeoutMs` with `what` in the message. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** True once the group committed the end of every partition of the given produced events. */
export async function allCommitted(groupId: string, produced: Produced[]): Promise<boolean> {
  const ends = new Map<string, number>();
  for (const p of produced) {
    const k = `${p.topic}|${p.partition}`;
    ends.set(k, Math.max(ends.get(k) ?? 0, p.offset + 1));
  }
  const committed = await committedOffsets(groupId, [...new Set(produced.map((p) => p.topic))]);
  return [...ends].every(([k, end]) => (committed.get(k) ?? -1) >= end);
}

/** Starts `target-profile-sink run` as a child process (through tsx, so no build is needed). */
export function spawnRun(configPath: string, extraArgs: string[] = []): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'connector/cli/main.ts'), 'run', '--config', configPath, ...extraArgs], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'test' },
  });
}

/** Resolves with the exit code (or signal) of a child process. */
export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** The attribute that carries an event's own id in the test mapping, so the sandbox log names events. */
export function eventIdAttribute(event: SampleEvent): { name: string; value: string } {
  const v = event.value as { eventId?: string; transactionId?: string };
  if (event.topic === SAMPLE_TOPICS.crm) return { name: 'crmEventId', value: String(v.eventId) };
  if (event.topic === SAMPLE_TOPICS.loyalty) return { name: 'swipeEventId', value: String(v.eventId) };
  return { name: 'txnId', value: String(v.transactionId) };
}

/** How often each event id reached the sandbox; duplicates are the counts above one. */
export function deliveriesPerEvent(updates: Array<{ attributes: Record<string, string> }>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const u of updates) {
    for (const name of ['crmEventId', 'swipeEventId', 'txnId']) {
      const id = u.attributes[name];
      if (id !== undefined) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
  }
  return counts;
}

/**
 * Events below a committed offset that Target has not seen: an event is covered when it is
 * filtered, or its id (or, merged over it, the id of a later event for the same profile on the
 * same partition) reached the sandbox.
 */
export function uncoveredBelowCommit(produced: Produced[], committed: Map<string, number>, seenIds: Set<string>): Produced[] {
  const byPartition = new Map<string, Produced[]>();
  for (const p of produced) {
    const k = `${p.topic}|${p.partition}`;
    byPartition.set(k, [...(byPartition.get(k) ?? []), p]);
  }
  const missing: Produced[] = [];
  for (const [k, list] of byPartition) {
    const upTo = committed.get(k) ?? 0;
    const sorted = [...list].sort((a, b) => a.offset - b.offset);
    sorted.forEach((p, i) => {
      if (p.offset >= upTo || expectedEffect(p.event) === undefined) return;
      const covered = sorted
        .slice(i)
        .some((q) => q.event.key === p.event.key && expectedEffect(q.event) !== undefined && seenIds.has(eventIdAttribute(q.event).value));
      if (!covered) missing.push(p);
    });
  }
  return missing;
}

/** Final attributes of the given third-party ids in the sandbox. */
export function profilesOf(target: Sandbox, keys: Iterable<string>): Map<string, Record<string, string> | undefined> {
  return new Map([...keys].map((k) => [k, target.profile('mbox3rdPartyId', k)]));
}

/** Extra hooks a test adds to a run: what the member owns, and what it commits. */
export interface TestSinkHooks {
  source?: KafkaSourceObserver;
  commits?: CommitObserver;
}

/** Runs the connector in this process with metrics and stats wired, plus extra hooks. */
export async function startTestSink(configPath: string, stats = new RunStats(), extra: TestSinkHooks = {}): Promise<RunningSink> {
  const observers = pipelineObservers<SourceRecord>(createMetrics(), stats);
  return startSink(await loadConfig(configPath), createLogger({ level: 'error', pretty: false }), {
    ...observers,
    source: extra.source,
    commits: extra.commits,
  });
}

/** What a test started, closed in reverse order by `closeAll` (call it from `afterEach`). */
export class TestResources {
  private readonly closers: Array<() => Promise<unknown>> = [];

  /** Registers something to close after the test. */
  add(close: () => Promise<unknown>): void {
    this.closers.push(close);
  }

  /** A sandbox that creates profiles on update, closed after the test. */
  async sandbox(options: SandboxOptions = {}): Promise<Sandbox> {
    const s = await startSandbox({ createMissing: true, seed: 42, ...options });
    this.add(() => s.close());
    return s;
  }

  /** Closes everything registered, newest first. */
  async closeAll(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close();
  }
}
