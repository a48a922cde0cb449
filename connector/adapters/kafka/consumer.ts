/**
 * The Kafka implementation of the pipeline's `Source` port: fetch, pause and resume, commit,
 * and the consumer group's rebalance and crash callbacks. The pipeline drives it; everything an
 * event goes through after it is fetched lives there (core/pipeline), and what is committed and
 * when in its commit policy.
 */
import type { Consumer, EachBatchPayload, IHeaders, Kafka, KafkaMessage, Offsets } from 'kafkajs';
import type { Logger } from 'pino';
import type { AckCommit } from '../../core/acks/ack-tracker.js';
import { describeError } from '../../core/errors.js';
import type { FatalSignal } from '../../core/pipeline/control.js';
import type { LagSignal } from '../../core/pipeline/lag-signal.js';
import type { InboundEvent, Intake, Source } from '../../core/pipeline/source.js';
import type { BrokerOutage } from './broker-outage.js';
import { headerText } from './headers.js';
import { isBrokerTrouble } from './log-entries.js';
import { RecordReader } from './record-reader.js';

/** What the consumer reports, for metrics and logs; every member optional. */
export interface KafkaSourceObserver {
  /** The partitions this member owns from now on (none while the group rebalances). */
  assigned?(partitions: Array<{ topic: string; partition: number }>): void;
}

export interface KafkaSourceOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  fromBeginning: boolean;
  sessionTimeoutMs: number;
  logger: Logger;
  observer?: KafkaSourceObserver;
  /** Told of the consumer's failures to reach Kafka and of its signs of health. */
  outage?: BrokerOutage;
  /** Told when the consumer crashed and kafkajs will not restart it. */
  fatal: FatalSignal;
  /** Told, at each batch, how far behind its partition's end it starts: the backlog the route decides on. */
  lag?: LagSignal;
}

/**
 * What a fetched record keeps while its event is in flight: what its dead letter needs, copied
 * out of the fetch response — kafkajs hands out slices of the response's buffer, and one held
 * slice would keep the whole response in memory.
 */
export interface SourceRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

/** A copy of `buffer` that holds nothing else alive. */
const own = (buffer: Buffer | null): Buffer | null => (buffer === null ? null : Buffer.from(buffer));

/** The record's headers, their values copied out of the fetch response; undefined when it has none (most records: no object held per event). */
function ownHeaders(headers: IHeaders | undefined): IHeaders | undefined {
  if (headers === undefined) return undefined;
  let copy: IHeaders | undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    copy ??= {};
    copy[name] = Array.isArray(value) ? value.map((v) => (typeof v === 'string' ? v : Buffer.from(v))) : typeof value === 'string' ? value : Buffer.from(value);
  }
  return copy;
}

/** A fetched record as the pipeline takes it. */
class KafkaEvent implements InboundEvent<SourceRecord> {
  readonly input: string;
  readonly offset: number;
  readonly payload: Buffer | null;
  readonly message: SourceRecord;

  constructor(
    readonly topic: string,
    readonly partition: number,
    fetched: KafkaMessage,
  ) {
    this.input = topic;
    this.offset = Number(fetched.offset);
    this.message = { key: own(fetched.key), value: own(fetched.value), headers: ownHeaders(fetched.headers) };
    this.payload = this.message.value;
  }

  header(name: string): string | undefined {
    return headerText(this.message.headers, name);
  }
}

type CommitFn = (offsets?: Offsets) => Promise<void>;

/**
 * How long a full pipeline is waited for inside a batch before the pipeline pauses the topics
 * instead: room usually returns within a commit interval, and waiting here resumes at once where
 * pause/resume costs a refetch; a longer wait (quota spent, Target down) pauses, so the batch
 * returns and the group stays calm.
 */
const WAIT_IN_BATCH_MS = 1000;
/** A join slower than this is worth explaining. */
const SLOW_JOIN_MS = 3000;

/**
 * Feeds a consumer group's records to the pipeline, without waiting for their delivery
 * (pipelined). Commits go through the eachBatch `commitOffsetsIfNecessary` function rather than
 * `consumer.commitOffsets`: the latter retries across a rebalance and could then commit, under
 * the new generation, a partition this member no longer owns. A direct commit carries the
 * generation of the moment it was decided, so a stale one is refused by the broker.
 */
export class KafkaSource implements Source<SourceRecord> {
  readonly holdMs = WAIT_IN_BATCH_MS;
  private readonly consumer: Consumer;
  private readonly records: RecordReader;
  private intake: Intake<SourceRecord> | undefined;
  private commitFn: CommitFn | undefined;
  private slowJoinTimer: NodeJS.Timeout | undefined;
  private paused = false;
  private joined = false;
  private stopping = false;

  constructor(private readonly options: KafkaSourceOptions) {
    this.records = new RecordReader({ kafka: options.kafka, groupId: options.groupId, logger: options.logger });
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 10)),
      allowAutoTopicCreation: false,
      // While every partition is paused kafkajs sleeps this long between fetch attempts, so it
      // is also how late a resume takes effect; fetches with data return at once regardless.
      maxWaitTimeInMs: 250,
    });
    const { GROUP_JOIN, REBALANCING, CRASH, HEARTBEAT, FETCH, COMMIT_OFFSETS, REQUEST_TIMEOUT } = this.consumer.events;
    const { outage } = options;
    for (const healthy of [GROUP_JOIN, HEARTBEAT, FETCH, COMMIT_OFFSETS]) this.consumer.on(healthy, () => outage?.healthy());
    this.consumer.on(REQUEST_TIMEOUT, (e) => outage?.failure(`a request to ${e.payload.broker} timed out`));
    this.consumer.on(GROUP_JOIN, (e) => {
      const owned = Object.entries(e.payload.memberAssignment).flatMap(([topic, partitions]) => partitions.map((partition) => ({ topic, partition })));
      this.intake?.assigned(owned.map((p) => ({ stream: p.topic, partition: p.partition })));
      this.joined = true;
      this.options.observer?.assigned?.(owned);
      this.options.logger.info({ partitions: owned.length, memberId: e.payload.memberId }, 'joined consumer group');
    });
    this.consumer.on(REBALANCING, () => {
      // What is done is committed under this generation; then nothing is ours until the next GROUP_JOIN.
      this.intake?.revoked();
      this.options.observer?.assigned?.([]);
      this.options.logger.info('group is rebalancing');
    });
    this.consumer.on(CRASH, (e) => {
      const err = describeError(e.payload.error);
      // kafkajs restarts after retriable crashes; otherwise nothing consumes any more and the
      // process must end (non-zero) rather than sit idle looking healthy.
      if (!e.payload.restart) {
        // kafkajs has dropped the consumer: pausing it would throw, and nothing fetches any more.
        this.paused = true;
        this.options.logger.error({ err }, 'consumer crashed and kafkajs will not restart it');
        this.options.fatal.fatal(e.payload.error);
      } else if (outage && isBrokerTrouble(err.message)) {
        // Part of a broker outage, which is reported as one.
        outage.failure(err.message, true);
      } else {
        this.options.logger.warn(
          { err },
          'the consumer failed and kafkajs restarts it: it rejoins the group; nothing is lost, events not yet committed are fetched again',
        );
      }
    });
  }

  /** Connects, subscribes and feeds `intake` (the pipeline); resolves once the group is joined and consuming. */
  async open(intake: Intake<SourceRecord>): Promise<void> {
    this.intake = intake;
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.options.topics, fromBeginning: this.options.fromBeginning });
    // run() resolves only once the group is joined, which is exactly the wait to explain.
    this.slowJoinTimer = setTimeout(() => void this.explainSlowJoin(), SLOW_JOIN_MS);
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  /** Commits offsets under the generation of the latest batch; the commit policy decides what and when. */
  async commit(commits: AckCommit[]): Promise<void> {
    const commitFn = this.commitFn;
    if (!commitFn) throw new Error('no batch fetched yet: nothing can be committed');
    const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
    for (const c of commits) byTopic.set(c.stream, [...(byTopic.get(c.stream) ?? []), { partition: c.partition, offset: c.offset }]);
    await commitFn({ topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) });
  }

  /** True once the consumer joined its group and until it stops: what /readyz reports. */
  get ready(): boolean {
    return this.joined && !this.stopping;
  }

  /** Stops fetching for good; what was fetched keeps being delivered. */
  stopFetching(): void {
    this.stopping = true;
    clearTimeout(this.slowJoinTimer);
    this.pause();
  }

  /** Stops fetching every topic until `resume` (asked by the pipeline). */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.consumer.pause(this.options.topics.map((topic) => ({ topic })));
  }

  /** Fetches again, unless the source is stopping. */
  resume(): void {
    if (!this.paused || this.stopping) return;
    this.paused = false;
    this.consumer.resume(this.options.topics.map((topic) => ({ topic })));
  }

  /** Leaves the group and closes the connections. */
  async disconnect(): Promise<void> {
    this.records.close();
    await this.consumer.disconnect();
  }

  /** Reads a record again for its dead letter (see RecordReader); a record Kafka no longer has comes back empty. */
  async reread(topic: string, partition: number, offset: number): Promise<InboundEvent<SourceRecord>> {
    const message = await this.records.read(topic, partition, offset);
    if (message === undefined)
      this.options.logger.warn(
        { topic, partition, offset },
        'a record to dead-letter is no longer in Kafka (retention or compaction): its dead letter has no key or value',
      );
    return new KafkaEvent(topic, partition, message ?? { offset: String(offset), key: null, value: null, timestamp: '0', attributes: 0, headers: {} });
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary } = payload;
    const intake = this.intake;
    if (!intake) return;
    this.commitFn = commitOffsetsIfNecessary;
    const { topic, partition } = batch;
    // Told before the batch is handed on: its own events are part of the backlog the route decides on.
    const first = batch.firstOffset();
    if (first !== null) this.options.lag?.behind(topic, partition, Number(batch.highWatermark) - Number(first));
    // kafkajs needs only the last offset handed on, when the batch ends or is left early (the next
    // fetch starts after it): resolving each record cost a string-to-Long parse per record.
    let last: string | undefined;
    const resolved = () => {
      if (last !== undefined) resolveOffset(last);
    };
    // A batch turns stale only by a seek, which can happen only while this loop awaits: asked then,
    // not per record (each ask builds a key string inside kafkajs).
    if (isStale()) return;
    for (const message of batch.messages) {
      if (!isRunning() || this.stopping) return resolved();
      if (intake.full) {
        // Past holdMs the pipeline pauses the topics and resumes them once room returns.
        const room = await intake.room();
        await heartbeat();
        if (!room || this.stopping || isStale()) return resolved();
      }
      const accepted = intake.accept(new KafkaEvent(topic, partition, message), heartbeat);
      // Plain Avro decodes synchronously; awaiting only when needed saves a promise per event.
      if (accepted instanceof Promise) {
        await accepted;
        last = message.offset;
        if (isStale()) return resolved();
      } else last = message.offset;
    }
    resolved();
    // And once it is handed on: a consumer that has read up to the end is no longer behind (no
    // later batch would say so), so the bulk route stops gathering a backlog into its open batch.
    this.options.lag?.behind(topic, partition, Number(batch.offsetLag()));
  }

  /**
   * A member that died without leaving (SIGKILL, lost host) stays in the group until its session
   * times out, and a new member cannot join before: say so instead of staying silent that long.
   */
  private async explainSlowJoin(): Promise<void> {
    if (this.joined || this.stopping) return;
    const admin = this.options.kafka.admin();
    try {
      await admin.connect();
      const { groups } = await admin.describeGroups([this.options.groupId]);
      // Members holding an assignment joined an earlier generation; this one, still joining, holds none.
      const members = groups[0]?.members.filter((m) => m.memberAssignment.length > 0).length ?? 0;
      if (this.joined || this.stopping || members === 0) return;
      const seconds = Math.ceil(this.options.sessionTimeoutMs / 1000);
      this.options.logger.warn(
        { group: this.options.groupId, earlierMembers: members, waitUpToSeconds: seconds },
        `consumer group ${this.options.groupId} still lists ${members} member(s) of an earlier run (stopped without leaving, e.g. killed); ` +
          `joining waits until the broker drops them when their session times out, up to ${seconds} s (kafka.session_timeout_ms)`,
      );
    } catch (error) {
      this.options.logger.debug({ err: describeError(error) }, 'could not describe the consumer group while joining');
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
}
