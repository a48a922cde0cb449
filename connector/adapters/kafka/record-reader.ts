/**
 * Reads records again by their position, for the dead letters of events that let go of their
 * record while they waited (a bulk row waiting for its batch's report). Requests made within a
 * moment of each other share one short-lived consumer of a private group: it starts each wanted
 * partition at its first wanted offset, reads up to its last, and the group is deleted afterwards.
 * Kafka hands a partition's records in offset order, so a wanted offset that was passed without
 * being seen is no longer in the log (retention, compaction): it comes back as undefined.
 */
import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { ConnectorError } from '../../core/errors.js';

export interface RecordReaderOptions {
  kafka: Kafka;
  /** The connector's group: the private groups are named after it, so an operator sees whose they are. */
  groupId: string;
  logger: Logger;
  /** How long requests gather before a read starts. */
  gatherMs?: number;
  /** A read that has not found every record by then fails its requests (their events stay uncommitted). */
  timeoutMs?: number;
}

interface Waiter {
  resolve(message: KafkaMessage | undefined): void;
  reject(error: unknown): void;
}

/** The wanted offsets of one partition and who waits for each. */
class PartitionWants {
  readonly waiters = new Map<number, Waiter[]>();

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  add(offset: number, waiter: Waiter): void {
    const list = this.waiters.get(offset);
    if (list) list.push(waiter);
    else this.waiters.set(offset, [waiter]);
  }

  get first(): number {
    return Math.min(...this.waiters.keys());
  }

  /** Hands out the record at `offset` if wanted, and settles as gone every wanted offset below it. */
  reached(offset: number, message: KafkaMessage): void {
    for (const [wanted, waiters] of this.waiters) {
      if (wanted > offset) continue;
      this.waiters.delete(wanted);
      for (const w of waiters) w.resolve(wanted === offset ? message : undefined);
    }
  }

  failAll(error: unknown): void {
    for (const waiters of this.waiters.values()) for (const w of waiters) w.reject(error);
    this.waiters.clear();
  }
}

const GATHER_MS = 200;
const TIMEOUT_MS = 60_000;

export class RecordReader {
  private wants = new Map<string, PartitionWants>();
  private scheduled = false;
  private reading: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: RecordReaderOptions) {}

  /** The record at `offset` of `topic` partition `partition`, or undefined when Kafka no longer has it. */
  read(topic: string, partition: number, offset: number): Promise<KafkaMessage | undefined> {
    if (this.closed) return Promise.reject(new ConnectorError('KAFKA_UNAVAILABLE', 'the record reader is closed', true));
    const key = `${partition}:${topic}`;
    let wants = this.wants.get(key);
    if (!wants) {
      wants = new PartitionWants(topic, partition);
      this.wants.set(key, wants);
    }
    const promise = new Promise<KafkaMessage | undefined>((resolve, reject) => (wants as PartitionWants).add(offset, { resolve, reject }));
    this.schedule();
    return promise;
  }

  /** Fails what waits; a read under way ends at its timeout at the latest. */
  close(): void {
    this.closed = true;
    const error = new ConnectorError('KAFKA_UNAVAILABLE', 'the connector stopped before the records were read again', true);
    for (const wants of this.wants.values()) wants.failAll(error);
    this.wants.clear();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const start = () => {
      this.scheduled = false;
      const batch = this.wants;
      this.wants = new Map();
      if (batch.size > 0) this.reading = this.readAll([...batch.values()]);
    };
    // One read at a time: requests made during a read wait for the next.
    this.reading.then(() => setTimeout(start, this.options.gatherMs ?? GATHER_MS).unref());
  }

  private async readAll(wanted: PartitionWants[]): Promise<void> {
    const { kafka, logger } = this.options;
    const groupId = `${this.options.groupId}.tps-reread.${randomUUID()}`;
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 });
    const byKey = new Map(wanted.map((w) => [`${w.partition}:${w.topic}`, w]));
    const open = () => wanted.some((w) => w.waiters.size > 0);
    let timer: NodeJS.Timeout | undefined;
    try {
      await consumer.connect();
      // From the beginning: an offset below the log's start resets there, past the wanted one.
      await consumer.subscribe({ topics: [...new Set(wanted.map((w) => w.topic))], fromBeginning: true });
      const done = new Promise<void>((resolve, reject) => {
        timer = setTimeout(
          () => reject(new ConnectorError('KAFKA_UNAVAILABLE', `records not read again within ${this.options.timeoutMs ?? TIMEOUT_MS} ms`, true)),
          this.options.timeoutMs ?? TIMEOUT_MS,
        );
        consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
          // Partitions nobody asked about would be read from their beginning: they stay still.
          const idle = Object.entries(payload.memberAssignment)
            .map(([topic, partitions]) => ({ topic, partitions: partitions.filter((p) => !byKey.has(`${p}:${topic}`)) }))
            .filter((t) => t.partitions.length > 0);
          if (idle.length > 0) consumer.pause(idle);
        });
        void consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const wants = byKey.get(`${batch.partition}:${batch.topic}`);
              if (!wants) return;
              for (const message of batch.messages) wants.reached(Number(message.offset), message);
              if (!open()) resolve();
            },
          })
          .then(() => {
            for (const w of wanted) consumer.seek({ topic: w.topic, partition: w.partition, offset: String(w.first) });
          }, reject);
      });
      await done;
    } catch (error) {
      logger.warn(
        { group: groupId, err: error instanceof Error ? error.message : String(error) },
        'could not read records again for their dead letters; their events stay uncommitted',
      );
      for (const w of wanted) w.failAll(error);
    } finally {
      clearTimeout(timer);
      await consumer.disconnect().catch(() => {});
      const admin = kafka.admin();
      await admin
        .connect()
        .then(() => admin.deleteGroups([groupId]))
        .catch(() => {})
        .finally(() => admin.disconnect().catch(() => {}));
    }
  }
}
