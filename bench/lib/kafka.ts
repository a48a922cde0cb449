/**
 * The broker the benchmarks use and the pre-filled topics they read. A topic's name encodes its
 * workload (generator, size, partitions, version), so a topic that already holds exactly the
 * expected number of records is reused across scenarios and across `npm run bench` invocations
 * instead of being produced again; anything else is deleted and produced afresh.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CompressionTypes, Kafka, logLevel, type Admin } from 'kafkajs';
import { repoPath, say, sleep } from './util.js';

const run = promisify(execFile);

/** Brokers from KAFKA_BROKERS, or the local script's 127.0.0.1:9092. */
export function benchBrokers(): string[] {
  return (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
}

export function benchKafka(clientId = 'bench'): Kafka {
  return new Kafka({ clientId, brokers: benchBrokers(), logLevel: logLevel.NOTHING });
}

/**
 * Makes sure a broker is up: with KAFKA_BROKERS set it is the caller's; otherwise
 * `scripts/kafka.sh start`, which says whether it started one (then we stop it at the end) or
 * reused a running one (then we leave it alone). Returns the function that undoes what we did.
 */
export async function ensureBroker(): Promise<() => Promise<void>> {
  if (process.env.KAFKA_BROKERS) return async () => {};
  const { stdout } = await run('bash', [repoPath('scripts/kafka.sh'), 'start'], { maxBuffer: 1 << 20 });
  if (stdout.trim() !== 'started') return async () => {};
  say('started a local broker for the benchmarks; it is stopped at the end');
  return async () => {
    await run('bash', [repoPath('scripts/kafka.sh'), 'stop']);
  };
}

export async function withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = benchKafka('bench-admin').admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

/** End offset (high watermark) per partition, which is also the record count of a fresh topic. */
export async function topicEnds(topic: string): Promise<Map<number, number>> {
  return withAdmin(async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  });
}

/** One record to produce. */
export interface BenchRecord {
  key: string;
  value: Buffer;
  partition: number;
}

/** A pre-filled topic: a name, its partition count and how to make its records, chunk by chunk. */
export interface TopicSpec {
  name: string;
  partitions: number;
  count: number;
  /** Records `from` (inclusive) to `to` (exclusive); called with consecutive ranges, in order. */
  records(from: number, to: number): BenchRecord[];
}

/** Java's String.hashCode modulo the partition count: a fixed key → partition rule for the workloads. */
export function partitionFor(key: string, partitions: number): number {
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (Math.imul(h, 31) + key.charCodeAt(i)) >>> 0;
  return h % partitions;
}

/** Creates and fills the topic unless it already holds exactly `count` records from offset 0. */
export async function ensureTopic(spec: TopicSpec): Promise<{ produced: boolean; seconds: number }> {
  const started = performance.now();
  const state = await withAdmin(async (admin) => {
    const existing = await admin.listTopics();
    if (!existing.includes(spec.name)) return 'missing' as const;
    const offsets = await admin.fetchTopicOffsets(spec.name);
    const complete =
      offsets.length === spec.partitions && offsets.every((o) => Number(o.low) === 0) && offsets.reduce((sum, o) => sum + Number(o.high), 0) === spec.count;
    if (complete) return 'complete' as const;
    await admin.deleteTopics({ topics: [spec.name], timeout: 30_000 });
    return 'deleted' as const;
  });
  if (state === 'complete') return { produced: false, seconds: (performance.now() - started) / 1000 };
  say(`producing ${spec.count.toLocaleString('en-US')} records into ${spec.name}${state === 'deleted' ? ' (an incomplete copy was deleted)' : ''}`);
  await createTopic(spec.name, spec.partitions);
  await produceAll(spec);
  const seconds = (performance.now() - started) / 1000;
  say(`  ${spec.name}: ${spec.count.toLocaleString('en-US')} records in ${seconds.toFixed(1)} s`);
  return { produced: true, seconds };
}

/** Creates a topic, retrying while a deletion of the same name is still being completed. */
export async function createTopic(name: string, partitions: number): Promise<void> {
  await withAdmin(async (admin) => {
    for (let attempt = 1; ; attempt++) {
      try {
        await admin.createTopics({ waitForLeaders: true, topics: [{ topic: name, numPartitions: partitions }] });
        return;
      } catch (error) {
        if (attempt >= 30) throw error;
        await sleep(1000);
      }
    }
  });
}

export async function deleteTopic(name: string): Promise<void> {
  await withAdmin((admin) => admin.deleteTopics({ topics: [name], timeout: 30_000 })).catch(() => undefined);
}

/** Removes consumer groups the runs created, so the broker does not collect them. */
export async function deleteGroups(groups: string[]): Promise<void> {
  if (groups.length === 0) return;
  await withAdmin((admin) => admin.deleteGroups(groups)).catch(() => undefined);
}

// A record batch per partition must stay under the broker's 1 MB message.max.bytes.
const CHUNK = 8000;

/**
 * Produces every record of the spec in big uncompressed batches; records are produced in spec
 * order and sequentially, so per-key (per-partition) order is the spec's order.
 */
async function produceAll(spec: TopicSpec): Promise<void> {
  const producer = benchKafka('bench-producer').producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    let next = spec.records(0, Math.min(CHUNK, spec.count));
    for (let from = 0; from < spec.count; from += CHUNK) {
      const current = next;
      const byPartition = new Map<number, Array<{ key: string; value: Buffer; partition: number }>>();
      for (const r of current) {
        let list = byPartition.get(r.partition);
        if (!list) byPartition.set(r.partition, (list = []));
        list.push(r);
      }
      const sending = producer.sendBatch({
        acks: 1,
        compression: CompressionTypes.None,
        topicMessages: [{ topic: spec.name, messages: [...byPartition.values()].flat() }],
      });
      // Generate and encode the next chunk while this one is on the wire.
      const to = Math.min(from + 2 * CHUNK, spec.count);
      next = from + CHUNK < spec.count ? spec.records(from + CHUNK, to) : [];
      await sending;
    }
  } finally {
    await producer.disconnect();
  }
}
