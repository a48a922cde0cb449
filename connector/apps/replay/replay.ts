/**
 * Replays dead letters: re-produces each matching one to the topic it came from, so the connector
 * delivers it again once the cause of its failure is fixed. Attributes that later events of the
 * same profile already set travel as a list to leave out (superseded.ts); to find them, the
 * letters and then their source partitions are read, each once, before anything is produced.
 */
import { randomUUID } from 'node:crypto';
import { Partitioners, type Admin, type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage, type TopicMessages } from 'kafkajs';
import type { Logger } from 'pino';
import { deadLetterTopicOf, type Config } from '../../core/config.js';
import { createDecoder, type Decoder } from '../../adapters/avro/decoder.js';
import type { MappingOutcome } from '../../core/mapping/index.js';
import { ConnectorError, describeError, type EventOrigin } from '../../core/errors.js';
import { projectedSchemasOf, readerSchemasOf, type CompiledMapping } from '../../core/mapping/index.js';
import { loadConfiguredMapping } from '../../adapters/mapping-file/load.js';
import { createRegistryClient, type RegistryClient } from '../../adapters/registry/registry.js';
import { createKafka } from '../../adapters/kafka/client.js';
import { retryingKafka } from '../../adapters/kafka/retriable.js';
import { planLetter, rangesToRead, replayOmitHeaderOf, sourcePositionOf, withReplayOmit, type PartitionRange, type ReplayFilter } from './replay-plan.js';
import { omitSuperseded, SupersededIndex } from '../../core/pipeline/superseded.js';

/** What a replay did (or, dry, would do). */
export interface ReplaySummary {
  /** Letters re-produced, trimmed ones included. */
  replayed: number;
  /** Replayed letters whose copy leaves out attributes that later events already set. */
  trimmed: number;
  /** Letters not re-produced because later events already set every attribute they carry. */
  superseded: number;
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
  /** Replay letters whole, attributes later events already set included (no source topic is read). */
  includeSuperseded?: boolean;
  /** Give up when no partition advances for this long (a partition that never reaches its end). Default 60 s. */
  stallTimeoutMs?: number;
}

const DEFAULT_STALL_TIMEOUT_MS = 60_000;

/** Kafka's GROUP_ID_NOT_FOUND: a throwaway group that never joined does not exist. */
const GROUP_ID_NOT_FOUND = 69;

/** The consumer group whose committed offsets remember what was already replayed. */
export function replayGroupId(groupId: string): string {
  return `${groupId}.replay`;
}

/** Reads every dead letter the replay group has not handled yet, up to the end offsets at the start, and replays the matching ones. */
export async function replayDeadLetters(config: Config, options: ReplayOptions, logger: Logger): Promise<ReplaySummary> {
  const dlq = deadLetterTopicOf(config);
  const groupId = replayGroupId(config.kafka.group_id);
  const log = logger.child({ component: 'replay', deadLetterTopic: dlq, groupId, dryRun: options.dryRun });
  const kafka = createKafka(config.kafka, logger);
  const summary: ReplaySummary = { replayed: 0, trimmed: 0, superseded: 0, skipped: 0, unmatched: 0, byTopic: {} };
  const ranges = await withKafkaErrors('cannot read the dead-letter offsets', () => retryingKafka(() => pendingRanges(kafka, dlq, groupId)));
  if (ranges === undefined) {
    log.warn('the dead-letter topic does not exist: nothing was ever dead-lettered there');
    return summary;
  }
  if (ranges.length === 0) {
    log.info('no dead letters left to replay');
    return summary;
  }
  const finder = options.includeSuperseded ? undefined : await SupersededFinder.load(config);
  try {
    if (finder) await finder.scan(kafka, config, ranges, options, log);
    log.info({ partitions: ranges }, options.dryRun ? 'reading dead letters (dry run)' : 'replaying dead letters');
    await replayRanges(kafka, config, ranges, finder, options, summary, log);
  } finally {
    await finder?.close();
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

/** The last pass: re-produces the letters, trimmed, and commits past them in the replay group. */
async function replayRanges(
  kafka: Kafka,
  config: Config,
  ranges: PartitionRange[],
  finder: SupersededFinder | undefined,
  options: ReplayOptions,
  summary: ReplaySummary,
  log: Logger,
): Promise<void> {
  const dlq = deadLetterTopicOf(config);
  const producer = options.dryRun ? undefined : kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  const planner = new LetterPlanner(dlq, options, finder, summary, log);
  const handle: RangeHandler = async (partition, letters, through, { commitOffsetsIfNecessary }) => {
    const outgoing = await planner.plan(letters, partition);
    if (producer && outgoing.length > 0) await producer.sendBatch({ acks: -1, topicMessages: outgoing });
    // Only after the copies are acknowledged: a crash before this replays them again, never loses them.
    if (!options.dryRun) {
      await commitOffsetsIfNecessary({ topics: [{ topic: dlq, partitions: [{ partition, offset: String(through) }] }] });
    }
  };
  try {
    await withKafkaErrors('cannot start the replay', async () => producer?.connect());
    await readRanges(
      kafka,
      config,
      { topic: dlq, ranges, groupId: replayGroupId(config.kafka.group_id), seek: false, label: 'replay of', handle },
      options,
      log,
    );
  } finally {
    await producer?.disconnect();
  }
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
 * Decodes and maps letters and source events with the current mapping, and reads what later
 * events set into a SupersededIndex before the replay produces anything.
 */
class SupersededFinder {
  readonly index = new SupersededIndex();

  private constructor(
    private readonly mapping: CompiledMapping,
    private readonly decoder: Decoder,
    private readonly registry: RegistryClient | undefined,
  ) {}

  /** Loads the configured mapping and a decoder for its topics. */
  static async load(config: Config): Promise<SupersededFinder> {
    const mapping = await loadConfiguredMapping(config);
    const registry = config.schema_registry && createRegistryClient(config.schema_registry);
    return new SupersededFinder(
      mapping,
      createDecoder({ readerSchemas: readerSchemasOf(mapping), registry, projections: projectedSchemasOf(mapping) }),
      registry,
    );
  }

  /**
   * What the current mapping makes of a record of `topic`; undefined when it cannot be decoded
   * or mapped (the connector would dead-letter it again, so nothing is trimmed from it). A
   * retryable failure, such as an unreachable registry, is thrown: deciding without the outcomes
   * could bring stale values back.
   */
  async outcomesOf(topic: string, record: { value: Buffer | null }, origin: EventOrigin): Promise<MappingOutcome[] | undefined> {
    if (record.value === null) return undefined;
    try {
      return this.mapping.mapEvent(topic, await this.decoder.decode(topic, record.value, origin));
    } catch (err) {
      if (err instanceof ConnectorError && err.retryable) throw err;
      return undefined;
    }
  }

  /** Reads the letters (which offsets are dead letters, which profiles they update), then what later events of those profiles set. */
  async scan(kafka: Kafka, config: Config, ranges: PartitionRange[], options: ReplayOptions, log: Logger): Promise<void> {
    const dlq = deadLetterTopicOf(config);
    await scanRanges(kafka, config, dlq, ranges, options, log, async (partition, letters) => {
      for (const letter of letters) {
        const at = sourcePositionOf(letter.headers);
        if (at === undefined) continue;
        this.index.addDeadLetter(at);
        if (planLetter(letter, { topic: dlq, partition, offset: letter.offset }, options.filter).action !== 'replay') continue;
        const outcomes = await this.outcomesOf(at.topic, letter, { topic: at.topic, partition: at.partition, offset: String(at.offset) });
        if (outcomes) this.index.addLetter(at, outcomes);
      }
    });
    const byTopic = new Map<string, Array<{ partition: number; from: number }>>();
    for (const { topic, partition, from } of this.index.reads()) byTopic.set(topic, [...(byTopic.get(topic) ?? []), { partition, from }]);
    for (const [topic, reads] of byTopic) {
      const sourceRanges = await withKafkaErrors(`cannot read the offsets of ${topic}`, () => retryingKafka(() => sourceRangesOf(kafka, topic, reads)));
      log.info({ topic, partitions: sourceRanges }, "reading later events of the letters' profiles");
      await scanRanges(kafka, config, topic, sourceRanges, options, log, async (partition, events) => {
        for (const event of events) {
          const outcomes = await this.outcomesOf(topic, event, { topic, partition, offset: event.offset });
          // As the connector applies it: a copy from an earlier replay sets only what it was left.
          if (outcomes) this.index.recordLater({ topic, partition, offset: Number(event.offset) }, omitSuperseded(outcomes, replayOmitHeaderOf(event.headers)));
        }
      });
    }
  }

  /** Releases the registry connections. */
  async close(): Promise<void> {
    await this.registry?.close();
  }
}

/**
 * The source ranges to read: after each partition's earliest letter, up to its current end.
 * Events produced after this still precede the copies in their partition, but are not looked at.
 */
async function sourceRangesOf(kafka: Kafka, topic: string, reads: Array<{ partition: number; from: number }>): Promise<PartitionRange[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    // A source topic deleted since has no later events; producing the copies will name it.
    if (!(await admin.listTopics()).includes(topic)) return [];
    const ends = await admin.fetchTopicOffsets(topic);
    return reads.flatMap(({ partition, from }) => {
      const end = ends.find((e) => e.partition === partition);
      if (end === undefined) return [];
      const range = { partition, from: Math.max(from, Number(end.low)), end: Number(end.high) };
      return range.from < range.end ? [range] : [];
    });
  } finally {
    await admin.disconnect();
  }
}

/** Reads `ranges` of `topic` with a consumer group of its own, deleted afterwards whatever happened. */
async function scanRanges(
  kafka: Kafka,
  config: Config,
  topic: string,
  ranges: PartitionRange[],
  options: ReplayOptions,
  log: Logger,
  handle: (partition: number, records: KafkaMessage[]) => Promise<void>,
): Promise<void> {
  if (ranges.length === 0) return;
  // kafkajs has no consumer without a group (manual assignment, tulios/kafkajs#373).
  const groupId = `${replayGroupId(config.kafka.group_id)}.scan.${randomUUID()}`;
  try {
    await readRanges(kafka, config, { topic, ranges, groupId, seek: true, label: 'reading', handle }, options, log);
  } finally {
    await deleteGroup(kafka, groupId, log);
  }
}

/** Deletes a throwaway group; a failure is logged with the group's name, as nothing else can remove it. */
async function deleteGroup(kafka: Kafka, groupId: string, log: Logger): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    await retryingKafka(() => admin.deleteGroups([groupId]));
  } catch (err) {
    const groups = (err as { groups?: Array<{ errorCode: number }> }).groups;
    if (groups?.every((g) => g.errorCode === GROUP_ID_NOT_FOUND)) return;
    log.warn(
      { err: describeError(err), group: groupId },
      "could not delete the replay's temporary consumer group; delete it with kafka-consumer-groups.sh --delete",
    );
  } finally {
    await admin.disconnect();
  }
}

/** Handles the records of one batch at offsets `[range.from, through)` of `partition`. */
type RangeHandler = (partition: number, records: KafkaMessage[], through: number, payload: EachBatchPayload) => Promise<void>;

/** One read of a topic's ranges. */
interface RangeRead {
  topic: string;
  ranges: PartitionRange[];
  groupId: string;
  /** Start each partition at its range by seeking (a group without committed offsets); otherwise the group's committed offsets say where. */
  seek: boolean;
  /** How failures name the read, e.g. `replay of` → "replay of dlq[0] from offset 4 failed". */
  label: string;
  handle: RangeHandler;
}

/** Consumes `read.ranges` to their ends and disconnects, also on failure. */
async function readRanges(kafka: Kafka, config: Config, read: RangeRead, options: ReplayOptions, log: Logger): Promise<void> {
  const consumer = kafka.consumer({
    groupId: read.groupId,
    sessionTimeout: config.kafka.session_timeout_ms,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 250,
  });
  const reader = new RangeReader(read, options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS, log);
  try {
    reader.watch(consumer);
    await withKafkaErrors(`cannot start reading ${read.topic}`, async () => {
      await consumer.connect();
      // Partitions outside the ranges start at their end when seeking: nothing of them is fetched.
      await consumer.subscribe({ topics: [read.topic], fromBeginning: !read.seek });
      await consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: (payload) => reader.onBatch(payload) });
    });
    await reader.finished;
  } finally {
    reader.stop();
    await consumer.disconnect();
  }
}

/**
 * The letters' side of the last pass: decides every letter, counts it and groups the copies by
 * source topic.
 */
class LetterPlanner {
  constructor(
    private readonly dlq: string,
    private readonly options: ReplayOptions,
    private readonly finder: SupersededFinder | undefined,
    private readonly summary: ReplaySummary,
    private readonly log: Logger,
  ) {}

  /** The copies to produce for `letters`, read from `partition` of the dead-letter topic. */
  async plan(letters: KafkaMessage[], partition: number): Promise<TopicMessages[]> {
    const byTopic = new Map<string, TopicMessages>();
    for (const letter of letters) {
      const at = { topic: this.dlq, partition, offset: letter.offset };
      const plan = planLetter(letter, at, this.options.filter);
      if (plan.action === 'skip') {
        this.summary.skipped += 1;
        this.log.warn({ partition, offset: letter.offset, reason: plan.reason }, 'dead letter cannot be replayed; passed over');
        continue;
      }
      if (plan.action === 'unmatched') {
        this.summary.unmatched += 1;
        continue;
      }
      let message = plan.message;
      if (this.finder) {
        const source = sourcePositionOf(letter.headers);
        const origin = source && { topic: source.topic, partition: source.partition, offset: String(source.offset) };
        const outcomes = origin && (await this.finder.outcomesOf(origin.topic, letter, origin));
        const decision = this.finder.index.decide(source, outcomes, replayOmitHeaderOf(letter.headers));
        if (decision.action === 'superseded') {
          this.summary.superseded += 1;
          this.log.debug({ partition, offset: letter.offset, source }, 'later events set every attribute of this letter; not replayed');
          continue;
        }
        if (decision.omit !== undefined) {
          this.summary.trimmed += 1;
          message = withReplayOmit(message, decision.omit);
          this.log.debug({ partition, offset: letter.offset, source, omit: decision.omit }, 'replaying without attributes later events set');
        }
      }
      this.summary.replayed += 1;
      this.summary.byTopic[plan.topic] = (this.summary.byTopic[plan.topic] ?? 0) + 1;
      this.log.debug({ partition, offset: letter.offset, to: plan.topic, errorCode: plan.errorCode }, this.options.dryRun ? 'would replay' : 'replaying');
      const group = byTopic.get(plan.topic) ?? { topic: plan.topic, messages: [] };
      group.messages.push(message);
      byTopic.set(plan.topic, group);
    }
    return [...byTopic.values()];
  }
}

/**
 * One read's progress: hands the fetched batches to its handler and settles `finished` once
 * every partition reached its end offset, or rejects on a failure or a stall.
 */
class RangeReader {
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
    private readonly read: RangeRead,
    private readonly stallTimeoutMs: number,
    private readonly log: Logger,
  ) {
    for (const range of read.ranges) this.position.set(range.partition, { ...range });
    // A stall can fire while the caller is still connecting, before it awaits `finished`; this
    // keeps that rejection from counting as unhandled (the caller's await still sees it).
    this.finished.catch(() => {});
    // Armed from the start, so a connection or group join that hangs also ends the run.
    this.armStallTimer();
  }

  /**
   * Counts joining the group as progress (and, when seeking, starts each partition at its
   * position: after a restart too), follows batches of nothing but transaction markers, and
   * fails fast when the consumer crashes for good.
   */
  watch(consumer: Consumer): void {
    consumer.on(consumer.events.GROUP_JOIN, () => {
      this.armStallTimer();
      if (!this.read.seek) return;
      for (const range of this.position.values()) consumer.seek({ topic: this.read.topic, partition: range.partition, offset: String(range.from) });
    });
    // kafkajs moves past batches holding only transaction markers or aborted records without
    // calling eachBatch; without following them, a partition whose end is such a batch never ends.
    // A batch with no record at or past the fetch offset reports the high watermark as its last
    // offset (firstOffset null); under read_committed that can lie beyond records not yet
    // visible, so only batches that really held markers or aborted records move the position.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const range = this.position.get(payload.partition);
      if (payload.topic === this.read.topic && payload.batchSize === 0 && payload.firstOffset !== null && range && !this.settled) {
        this.advance(range, Math.min(Number(payload.lastOffset) + 1, range.end));
      }
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      this.fail(
        new ConnectorError('KAFKA_UNAVAILABLE', `consumer reading ${this.read.topic} crashed: ${describeError(payload.error).message}`, true, {
          cause: payload.error,
        }),
      );
    });
  }

  /** Hands the records of one batch below the partition's end to the handler, then moves past them. */
  async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat } = payload;
    const range = this.position.get(batch.partition);
    if (this.settled || !range) return;
    // lastOffset() counts transaction markers too, which occupy offsets but are no records.
    // Records written after the read started are left for later.
    const through = Math.min(Number(batch.lastOffset()) + 1, range.end);
    if (through <= range.from) return;
    const records = batch.messages.filter((m) => Number(m.offset) >= range.from && Number(m.offset) < through);
    try {
      await this.read.handle(batch.partition, records, through, payload);
      resolveOffset(String(through - 1));
      await heartbeat();
      this.advance(range, through);
    } catch (cause) {
      const message = `${this.read.label} ${this.read.topic}[${batch.partition}] from offset ${range.from} failed: ${describeError(cause).message}`;
      // A ConnectorError keeps its code and flag (a registry outage stays one); anything else came from Kafka.
      const failure = cause instanceof ConnectorError ? cause : undefined;
      this.fail(new ConnectorError(failure?.code ?? 'KAFKA_UNAVAILABLE', message, failure?.retryable ?? true, { cause }));
    }
  }

  /** Ignores further batches and timers; called once the run settled or its caller gave up. */
  stop(): void {
    this.settled = true;
    clearTimeout(this.stallTimer);
  }

  private advance(range: PartitionRange, next: number): void {
    range.from = next;
    this.armStallTimer();
    this.log.debug({ topic: this.read.topic, partition: range.partition, next, end: range.end }, 'batch handled');
    if (next < range.end) return;
    this.position.delete(range.partition);
    if (this.position.size === 0) this.settle();
  }

  private settle(): void {
    this.stop();
    this.resolve();
  }

  private fail(err: ConnectorError): void {
    if (this.settled) return;
    this.stop();
    this.reject(err);
  }

  private armStallTimer(): void {
    clearTimeout(this.stallTimer);
    if (this.settled) return;
    const ms = this.stallTimeoutMs;
    this.stallTimer = setTimeout(() => {
      const behind = [...this.position.values()].map((r) => `${r.partition} (at ${r.from} of ${r.end})`).join(', ');
      this.fail(
        new ConnectorError(
          'KAFKA_UNAVAILABLE',
          `replay made no progress for ${ms} ms reading ${this.read.topic}; partitions still short of their end: ${behind}`,
          true,
        ),
      );
    }, ms);
  }
}
