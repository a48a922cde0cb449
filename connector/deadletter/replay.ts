/**
 * Replays dead letters: re-produces each matching one, unchanged, to the topic it came from, so
 * the connector delivers it again once the cause of its failure is fixed.
 */
import { Partitioners, type Admin, type Consumer, type EachBatchPayload, type Kafka, type Producer, type TopicMessages } from 'kafkajs';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { ConnectorError, describeError } from '../errors.js';
import { createKafka } from '../source/kafka-client.js';
import { planLetter, rangesToRead, type PartitionRange, type ReplayFilter } from './replay-plan.js';
import { retryingKafka } from '../source/kafka-retriable.js';

/** What a replay did (or, dry, would do). */
export interface ReplaySummary {
  replayed: number;
  /** Letters that cannot be replayed (no source topic); passed over for good. */
  skipped: number;
  /** Letters outside this run's filters; passed over by this replay group too. */
  unmatched: number;
  /** Replayed letters per source topic. */
  byTopic: Record<string, number>;
}

/** How to replay. */
export interface ReplayOptions {
  filter: ReplayFilter;
  /** Read and report only: nothing is produced, no offset is committed. */
  dryRun: boolean;
  /** Give up when no partition advances for this long (a partition that never reaches its end). Default 60 s. */
  stallTimeoutMs?: number;
}

const DEFAULT_STALL_TIMEOUT_MS = 60_000;

/** The consumer group whose committed offsets remember what was already replayed. */
export function replayGroupId(groupId: string): string {
  return `${groupId}.replay`;
}

/** Reads every dead letter the replay group has not handled yet, up to the end offsets at the start, and replays the matching ones. */
export async function replayDeadLetters(config: Config, options: ReplayOptions, logger: Logger): Promise<ReplaySummary> {
  const dlq = config.delivery.dead_letter_topic;
  const groupId = replayGroupId(config.kafka.group_id);
  const log = logger.child({ component: 'replay', deadLetterTopic: dlq, groupId, dryRun: options.dryRun });
  const kafka = createKafka(config.kafka, logger);
  const summary: ReplaySummary = { replayed: 0, skipped: 0, unmatched: 0, byTopic: {} };
  const ranges = await withKafkaErrors('cannot read the dead-letter offsets', () => retryingKafka(() => pendingRanges(kafka, dlq, groupId)));
  if (ranges === undefined) {
    log.warn('the dead-letter topic does not exist: nothing was ever dead-lettered there');
    return summary;
  }
  if (ranges.length === 0) {
    log.info('no dead letters left to replay');
    return summary;
  }
  log.info({ partitions: ranges }, options.dryRun ? 'reading dead letters (dry run)' : 'replaying dead letters');
  const producer = options.dryRun
    ? undefined
    : kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  const consumer = kafka.consumer({ groupId, sessionTimeout: config.kafka.session_timeout_ms, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 });
  const run = new ReplayRun(dlq, ranges, options, producer, summary, log);
  try {
    run.watch(consumer);
    await withKafkaErrors('cannot start the replay', async () => {
      await producer?.connect();
      await consumer.connect();
      await consumer.subscribe({ topics: [dlq], fromBeginning: true });
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => run.onBatch(payload) });
    });
    await run.finished;
  } finally {
    run.stop();
    await consumer.disconnect();
    await producer?.disconnect();
  }
  if (summary.unmatched > 0 && !options.dryRun) {
    // The group's offset is one number per partition: it cannot remember letters it passed over.
    log.warn(
      { unmatched: summary.unmatched },
      'letters outside the filters were passed over and will not be offered again; reset the replay group to the earliest offset to replay them later',
    );
  }
  return summary;
}

/** The ranges still to read, or undefined when the dead-letter topic does not exist. */
async function pendingRanges(kafka: Kafka, dlq: string, groupId: string): Promise<PartitionRange[] | undefined> {
  const admin: Admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(dlq)) return undefined;
    const ends = await admin.fetchTopicOffsets(dlq);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [dlq] });
    return rangesToRead(ends, committed?.partitions ?? []);
  } finally {
    await admin.disconnect();
  }
}

/** Runs `work`, turning a kafkajs failure into a ConnectorError that names what failed. */
async function withKafkaErrors<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (cause) {
    if (cause instanceof ConnectorError) throw cause;
    throw new ConnectorError('KAFKA_UNAVAILABLE', `${what}: ${describeError(cause).message}`, true, { cause });
  }
}

/**
 * One replay's progress: handles the fetched batches and settles `finished` once every partition
 * reached its end offset, or rejects on a failure or a stall.
 */
class ReplayRun {
  /** Next offset to handle, per partition still short of its end. */
  private readonly position = new Map<number, PartitionRange>();
  private stallTimer: NodeJS.Timeout | undefined;
  private settled = false;
  private resolve: () => void = () => {};
  private reject: (err: unknown) => void = () => {};
  readonly finished = new Promise<void>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });

  constructor(
    private readonly dlq: string,
    ranges: PartitionRange[],
    private readonly options: ReplayOptions,
    private readonly producer: Producer | undefined,
    private readonly summary: ReplaySummary,
    private readonly log: Logger,
  ) {
    for (const range of ranges) this.position.set(range.partition, { ...range });
    // A stall can fire while the caller is still connecting, before it awaits `finished`; this
    // keeps that rejection from counting as unhandled (the caller's await still sees it).
    this.finished.catch(() => {});
    // Armed from the start, so a connection or group join that hangs also ends the run.
    this.armStallTimer();
  }

  /** Counts joining the group as progress, follows batches of nothing but transaction markers, and fails fast when the consumer crashes for good. */
  watch(consumer: Consumer): void {
    consumer.on(consumer.events.GROUP_JOIN, () => this.armStallTimer());
    // kafkajs moves past batches holding only transaction markers or aborted records without
    // calling eachBatch; without following them, a partition whose end is such a batch never ends.
    // A batch with no record at or past the fetch offset reports the high watermark as its last
    // offset (firstOffset null); under read_committed that can lie beyond records not yet
    // visible, so only batches that really held markers or aborted records move the position.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const range = this.position.get(payload.partition);
      if (payload.batchSize === 0 && payload.firstOffset !== null && range && !this.settled) {
        this.advance(range, Math.min(Number(payload.lastOffset) + 1, range.end));
      }
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      this.fail(new ConnectorError('KAFKA_UNAVAILABLE', `replay consumer crashed: ${describeError(payload.error).message}`, true, { cause: payload.error }));
    });
  }

  /** Replays the letters of one batch below the partition's end, then commits past them. */
  async onBatch({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary }: EachBatchPayload): Promise<void> {
    const range = this.position.get(batch.partition);
    if (this.settled || !range) return;
    // lastOffset() counts transaction markers too, which occupy offsets but are no letters.
    // Letters written after the replay started belong to the next replay.
    const through = Math.min(Number(batch.lastOffset()) + 1, range.end);
    if (through <= range.from) return;
    const letters = batch.messages.filter((m) => Number(m.offset) >= range.from && Number(m.offset) < through);
    try {
      const outgoing = this.plan(letters, batch.partition);
      if (this.producer && outgoing.length > 0) await this.producer.sendBatch({ acks: -1, topicMessages: outgoing });
      // Only after the copies are acknowledged: a crash before this replays them again, never loses them.
      if (!this.options.dryRun) {
        await commitOffsetsIfNecessary({ topics: [{ topic: this.dlq, partitions: [{ partition: batch.partition, offset: String(through) }] }] });
      }
      resolveOffset(String(through - 1));
      await heartbeat();
      this.advance(range, through);
    } catch (cause) {
      const message = `replay of ${this.dlq}[${batch.partition}] from offset ${range.from} failed: ${describeError(cause).message}`;
      this.fail(new ConnectorError('KAFKA_UNAVAILABLE', message, true, { cause }));
    }
  }

  /** Ignores further batches and timers; called once the run settled or its caller gave up. */
  stop(): void {
    this.settled = true;
    clearTimeout(this.stallTimer);
  }

  /** Decides every letter, counts it and groups the copies by source topic. */
  private plan(letters: EachBatchPayload['batch']['messages'], partition: number): TopicMessages[] {
    const byTopic = new Map<string, TopicMessages>();
    for (const letter of letters) {
      const at = { topic: this.dlq, partition, offset: letter.offset };
      const plan = planLetter(letter, at, this.options.filter);
      if (plan.action === 'skip') {
        this.summary.skipped += 1;
        this.log.warn({ partition, offset: letter.offset, reason: plan.reason }, 'dead letter cannot be replayed; passed over');
      } else if (plan.action === 'unmatched') {
        this.summary.unmatched += 1;
      } else {
        this.summary.replayed += 1;
        this.summary.byTopic[plan.topic] = (this.summary.byTopic[plan.topic] ?? 0) + 1;
        this.log.debug({ partition, offset: letter.offset, to: plan.topic, errorCode: plan.errorCode }, this.options.dryRun ? 'would replay' : 'replaying');
        const group = byTopic.get(plan.topic) ?? { topic: plan.topic, messages: [] };
        group.messages.push(plan.message);
        byTopic.set(plan.topic, group);
      }
    }
    return [...byTopic.values()];
  }

  private advance(range: PartitionRange, next: number): void {
    range.from = next;
    this.armStallTimer();
    this.log.info({ partition: range.partition, next, end: range.end, replayed: this.summary.replayed }, 'batch handled');
    if (next < range.end) return;
    this.position.delete(range.partition);
    if (this.position.size === 0) {
      this.stop();
      this.resolve();
    }
  }

  private fail(err: ConnectorError): void {
    if (this.settled) return;
    this.stop();
    this.reject(err);
  }

  private armStallTimer(): void {
    clearTimeout(this.stallTimer);
    if (this.settled) return;
    const ms = this.options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    this.stallTimer = setTimeout(() => {
      const behind = [...this.position.values()].map((r) => `${r.partition} (at ${r.from} of ${r.end})`).join(', ');
      this.fail(new ConnectorError('KAFKA_UNAVAILABLE', `replay made no progress for ${ms} ms; partitions still short of their end: ${behind}`, true));
    }, ms);
  }
}
