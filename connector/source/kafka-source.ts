import type { Consumer, EachBatchPayload, Kafka, KafkaMessage, Offsets } from 'kafkajs';
import type { Logger } from 'pino';
import type { DeadLetterWriter } from '../deadletter/dead-letter-writer.js';
import { omitSuperseded, replayOmitHeaderOf } from '../deadletter/superseded.js';
import { sleep, systemClock } from '../clock.js';
import { CircuitBreaker, type BreakerObserver } from '../dispatch/circuit-breaker.js';
import type { Dispatcher } from '../dispatch/dispatcher.js';
import { deliverEvent, type EventOutcome } from '../dispatch/event-delivery.js';
import type { MappingOutcome } from '../mapping/index.js';
import { describeError, OutageBudgetError, type EventOrigin } from '../errors.js';
import { Throttle } from '../observe/throttle.js';
import { isRetryable, RetryPolicy } from '../retry/policy.js';
import { OffsetTracker, type OffsetCommit, type OffsetToken } from '../offsets/offset-tracker.js';

/** Turns a record value into the mapping's input; a promise only when a schema must be fetched. */
export interface EventDecoder {
  decode(topic: string, value: Buffer, origin: EventOrigin): unknown;
}

/** Turns a decoded value into one outcome per mapping that reads the topic. */
export interface EventMapper {
  mapEvent(topic: string, value: unknown): MappingOutcome[];
}

/** Hooks for metrics; every member optional. */
export interface SourceObserver {
  consumed?(topic: string): void;
  settled?(topic: string, outcome: EventOutcome, heldMs: number): void;
  lag?(topic: string, partition: number, lag: number): void;
  pending?(count: number): void;
  /** A commit is being sent, decided under the current assignment. */
  committing?(commits: OffsetCommit[]): void;
  committed?(commits: OffsetCommit[]): void;
  assigned?(partitions: Array<{ topic: string; partition: number }>): void;
  /** The mapping cut these attributes' values (long_values: truncate). */
  truncated?(attributes: string[]): void;
}

export interface KafkaSourceOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  fromBeginning: boolean;
  sessionTimeoutMs: number;
  maxPending: number;
  commitIntervalMs: number;
  decoder: EventDecoder;
  mapper: EventMapper;
  dispatcher: Dispatcher;
  deadLetters: DeadLetterWriter;
  logger: Logger;
  observer?: SourceObserver;
  /** Backoff while the schema registry is unreachable (decoding waits, nothing is skipped). */
  registryRetry: RetryPolicy;
  /** Reports the registry's outages like Target's. */
  registryBreaker?: BreakerObserver;
  /** How long the registry may stay unreachable before the run gives up; unbounded when absent. */
  outageBudgetMs?: number;
}

type CommitFn = (offsets?: Offsets) => Promise<void>;

/**
 * The at-least-once Kafka consumer. Batches are handed to delivery without waiting for it
 * (pipelined); an offset is committed only once it and every offset before it on its partition
 * were delivered, filtered or dead-lettered. Fetching pauses while `maxPending` events are held
 * or the quota is spent.
 *
 * Commits go through the eachBatch `commitOffsetsIfNecessary` function rather than
 * `consumer.commitOffsets`: the latter retries across a rebalance and could then commit, under
 * the new generation, a partition this member no longer owns. A direct commit carries the
 * generation of the moment it was decided, so a stale one is refused by the broker.
 */
export class KafkaSource {
  private readonly consumer: Consumer;
  private readonly tracker = new OffsetTracker();
  private commitFn: CommitFn | undefined;
  private commitTimer: NodeJS.Timeout | undefined;
  private resumeTimer: NodeJS.Timeout | undefined;
  private slowJoinTimer: NodeJS.Timeout | undefined;
  private unsettledEvents = 0;
  private ackedSinceCommit = 0;
  private commitSoon = false;
  private paused = false;
  private joined = false;
  private stopping = false;
  private committing: Promise<void> = Promise.resolve();
  private drainWaiters: Array<() => void> = [];
  private readonly fatalListeners: Array<(error: Error) => void> = [];
  private readonly registryBreaker: CircuitBreaker;
  // At most one line a minute: a bad batch must not flood the log; the metric counts every one.
  private readonly deadLetterWarning = new Throttle(60_000);
  private deadLettersSinceWarning = 0;

  constructor(private readonly options: KafkaSourceOptions) {
    this.registryBreaker = new CircuitBreaker({
      endpoint: 'schema registry',
      // The registry client already retried the request: one failure means it is down.
      threshold: 1,
      probePolicy: options.registryRetry,
      clock: systemClock,
      observer: options.registryBreaker,
    });
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(options.sessionTimeoutMs / 10)),
      allowAutoTopicCreation: false,
      // While every partition is paused kafkajs sleeps this long between fetch attempts, so it
      // is also how late a resume takes effect; fetches with data return at once regardless.
      maxWaitTimeInMs: 250,
    });
    const { GROUP_JOIN, REBALANCING, CRASH } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, (e) => {
      const owned = Object.entries(e.payload.memberAssignment).flatMap(([topic, partitions]) =>
        partitions.map((partition) => ({ topic, partition })),
      );
      this.tracker.assign(owned);
      this.joined = true;
      this.options.observer?.assigned?.(owned);
      this.options.logger.info({ partitions: owned.length, memberId: e.payload.memberId }, 'joined consumer group');
    });
    this.consumer.on(REBALANCING, () => {
      // Flush what is done while this generation still owns its partitions, then own nothing
      // until the next GROUP_JOIN says what is ours.
      void this.commit();
      this.tracker.revokeAll();
      this.options.observer?.assigned?.([]);
      this.options.logger.info('group is rebalancing');
    });
    this.consumer.on(CRASH, (e) => {
      this.options.logger.error({ err: describeError(e.payload.error), restart: e.payload.restart }, 'consumer crashed');
      // kafkajs restarts after retriable crashes; otherwise nothing consumes any more and the
      // process must end (non-zero) rather than sit idle looking healthy.
      if (!e.payload.restart) this.fail(e.payload.error);
    });
  }

  /** Calls `listener` when the run cannot go on (a crash kafkajs will not restart, an outage past its budget). */
  onFatal(listener: (error: Error) => void): void {
    this.fatalListeners.push(listener);
  }

  /** Ends the run for `error`: fetching stops and nothing more is committed than was acknowledged. */
  fail(error: Error): void {
    this.pauseAll();
    for (const listener of this.fatalListeners) listener(error);
  }

  /** Connects, subscribes and starts consuming; resolves once the consumer runs. */
  async start(): Promise<void> {
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
    this.commitTimer = setInterval(() => void this.commit(), this.options.commitIntervalMs);
    this.resumeTimer = setInterval(() => this.maybeResume(), 50);
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

  /** True once the consumer joined its group and until it stops: what /readyz reports. */
  get ready(): boolean {
    return this.joined && !this.stopping;
  }

  /** Events fetched and not yet committed (settled or not). */
  get pending(): number {
    return this.tracker.uncommitted();
  }

  /**
   * Stops fetching, waits up to `timeoutMs` for events in flight, commits what is done and
   * disconnects. Returns whether everything in flight settled.
   */
  async stop(timeoutMs: number): Promise<boolean> {
    this.stopping = true;
    this.pauseAll();
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      this.whenDrained().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    clearInterval(this.commitTimer);
    clearInterval(this.resumeTimer);
    clearTimeout(this.slowJoinTimer);
    await this.commit();
    this.options.dispatcher.stop();
    this.options.deadLetters.stop();
    await this.consumer.disconnect();
    return drained;
  }

  private whenDrained(): Promise<void> {
    if (this.unsettledEvents === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private async onBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary } = payload;
    this.commitFn = commitOffsetsIfNecessary;
    const { topic, partition } = batch;
    for (const message of batch.messages) {
      if (!isRunning() || isStale() || this.stopping) return;
      if (this.mustPause() && !(await this.waitForRoom(heartbeat, isRunning))) return;
      const offset = Number(message.offset);
      const token = this.tracker.track(topic, partition, offset);
      if (!token) continue;
      const decoding = this.decode(topic, partition, message, heartbeat);
      // Plain Avro decodes synchronously; awaiting only when needed saves a promise per event.
      const value = decoding instanceof Promise ? await decoding : decoding;
      if (value === STOPPED) return;
      resolveOffset(message.offset);
      this.accept(token, message, value);
    }
    this.options.observer?.lag?.(topic, partition, Number(batch.highWatermark) - Number(batch.lastOffset()) - 1);
  }

  /** Decodes one record: synchronously when it can, else waiting (registry fetch, registry down). */
  private decode(
    topic: string,
    partition: number,
    message: KafkaMessage,
    heartbeat: () => Promise<void>,
  ): DecodeResult | Promise<DecodeResult> {
    if (message.value === null) return { filtered: 'tombstone (null value)' };
    const origin = { topic, partition, offset: message.offset };
    let first: Promise<unknown>;
    try {
      const decoded = this.options.decoder.decode(topic, message.value, origin);
      if (!(decoded instanceof Promise)) return { value: decoded };
      first = decoded;
    } catch (error) {
      if (!isRetryable(error)) return { error };
      first = Promise.reject(error);
    }
    return this.decodeWaiting(first, topic, message.value, origin, heartbeat);
  }

  /** The slow path of `decode`: awaits the first attempt, retrying a retryable failure without skipping the record. */
  private async decodeWaiting(
    first: Promise<unknown>,
    topic: string,
    bytes: Buffer,
    origin: EventOrigin,
    heartbeat: () => Promise<void>,
  ): Promise<DecodeResult> {
    let attemptResult = first;
    for (let attempt = 1; ; attempt++) {
      try {
        const value = await attemptResult;
        this.registryBreaker.recordSuccess();
        return { value };
      } catch (error) {
        if (!isRetryable(error)) return { error };
        if (this.stopping) return STOPPED;
        this.registryBreaker.recordFailure(error, true);
        const budget = this.options.outageBudgetMs;
        if (budget !== undefined && this.registryBreaker.openForMs() >= budget) {
          this.fail(new OutageBudgetError(`the schema registry has been unreachable for longer than the outage budget (delivery.outage_budget_ms: ${budget})`));
          return STOPPED;
        }
        // The partition waits here: a record it cannot decode yet is never skipped.
        await sleep(systemClock, this.registryBreaker.probeDueInMs() ?? this.options.registryRetry.delay(attempt, error));
        await heartbeat();
        this.registryBreaker.startProbe();
        attemptResult = Promise.resolve().then(() => this.options.decoder.decode(topic, bytes, origin));
      }
    }
  }

  private accept(token: OffsetToken, message: KafkaMessage, decoded: Exclude<DecodeResult, typeof STOPPED>): void {
    this.unsettledEvents++;
    this.options.observer?.consumed?.(token.topic);
    const fetchedAt = performance.now();
    const done = (outcome: EventOutcome) => this.settle(token, message, outcome, fetchedAt);
    if ('filtered' in decoded) return done({ kind: 'filtered', reason: decoded.filtered });
    if ('error' in decoded) return done({ kind: 'failed', error: decoded.error, attempts: 0 });
    let outcomes: MappingOutcome[];
    try {
      outcomes = this.options.mapper.mapEvent(token.topic, decoded.value);
      outcomes = omitSuperseded(outcomes, replayOmitHeaderOf(message.headers));
      for (const o of outcomes) if (o.kind === 'update' && o.truncated) this.options.observer?.truncated?.(o.truncated);
    } catch (error) {
      return done({ kind: 'failed', error, attempts: 0 });
    }
    deliverEvent(outcomes, this.options.dispatcher, done, () => this.tracker.isCurrent(token));
  }

  private settle(token: OffsetToken, message: KafkaMessage, outcome: EventOutcome, fetchedAt: number): void {
    if (outcome.kind === 'cancelled') {
      this.release();
      return;
    }
    if (outcome.kind !== 'failed') {
      this.finish(token, outcome, fetchedAt);
      return;
    }
    this.deadLettersSinceWarning++;
    if (this.deadLetterWarning.ready()) {
      this.options.logger.warn(
        { topic: token.topic, partition: token.partition, offset: token.offset, err: describeError(outcome.error), deadLetters: this.deadLettersSinceWarning },
        'events go to the dead-letter topic (one line a minute at most; tps_events_dead_lettered_total counts them all)',
      );
      this.deadLettersSinceWarning = 0;
    }
    this.options.deadLetters
      .write({
        topic: token.topic,
        partition: token.partition,
        offset: String(token.offset),
        key: message.key,
        value: message.value,
        headers: message.headers,
        error: outcome.error,
        attempts: outcome.attempts,
        failedAt: new Date(),
      })
      .then(
        () => this.finish(token, outcome, fetchedAt),
        // Stopped before Kafka took it: leave the offset uncommitted so it is read again.
        () => this.release(),
      );
  }

  private finish(token: OffsetToken, outcome: EventOutcome, fetchedAt: number): void {
    this.tracker.ack(token);
    // Commit early when much is done: the interval alone would let a fast run hold (and, after
    // a crash, re-deliver) far more than max_pending events.
    if (++this.ackedSinceCommit >= this.options.maxPending / 4 && !this.commitSoon) {
      this.commitSoon = true;
      setImmediate(() => {
        this.commitSoon = false;
        void this.commit();
      });
    }
    this.options.observer?.settled?.(token.topic, outcome, performance.now() - fetchedAt);
    this.release();
  }

  private release(): void {
    this.unsettledEvents--;
    this.options.observer?.pending?.(this.tracker.uncommitted());
    if (this.unsettledEvents === 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const w of waiters) w();
    }
  }

  /**
   * Events count against `maxPending` until their offset is committed, not merely until they
   * settle: that bounds memory and also what a crash can make Kafka deliver again.
   */
  private mustPause(): boolean {
    return this.tracker.uncommitted() >= this.options.maxPending || this.options.dispatcher.blocked;
  }

  /**
   * Waits inside the batch while the bound is reached: room usually returns within a commit
   * interval, and waiting here resumes at once, where pause/resume costs a refetch. A longer
   * wait (quota spent) pauses the topics instead, so the batch returns and the group stays calm.
   */
  private async waitForRoom(heartbeat: () => Promise<void>, isRunning: () => boolean): Promise<boolean> {
    const giveUpAt = Date.now() + 1000;
    let heartbeatAt = Date.now() + 250;
    while (this.mustPause()) {
      if (this.stopping || !isRunning()) return false;
      if (Date.now() >= giveUpAt) {
        this.pauseAll();
        return false;
      }
      await new Promise((r) => setTimeout(r, 5));
      if (Date.now() >= heartbeatAt) {
        heartbeatAt = Date.now() + 250;
        await heartbeat();
      }
    }
    return true;
  }

  private pauseAll(): void {
    if (this.paused) return;
    this.paused = true;
    this.consumer.pause(this.options.topics.map((topic) => ({ topic })));
  }

  private maybeResume(): void {
    if (!this.paused || this.stopping) return;
    // Resume at half the bound so that fetching does not flap at the limit.
    if (this.tracker.uncommitted() > this.options.maxPending / 2 || this.options.dispatcher.blocked) return;
    this.paused = false;
    this.consumer.resume(this.options.topics.map((topic) => ({ topic })));
  }

  /**
   * Commits the acknowledged prefix of every owned partition; failures wait for the next tick.
   * What to commit is decided synchronously, against the ownership of this very moment.
   */
  private commit(): Promise<void> {
    const commits = this.tracker.pendingCommits();
    const commitFn = this.commitFn;
    this.ackedSinceCommit = 0;
    if (commits.length === 0 || !commitFn) return this.committing;
    const byTopic = new Map<string, Array<{ partition: number; offset: string }>>();
    for (const c of commits) byTopic.set(c.topic, [...(byTopic.get(c.topic) ?? []), { partition: c.partition, offset: c.offset }]);
    const offsets: Offsets = { topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })) };
    const version = this.tracker.assignmentVersion;
    this.committing = this.committing.then(async () => {
      if (version !== this.tracker.assignmentVersion) return;
      this.options.observer?.committing?.(commits);
      try {
        await commitFn(offsets);
        this.tracker.markCommitted(commits);
        this.options.observer?.committed?.(commits);
      } catch (error) {
        this.options.logger.warn({ err: describeError(error) }, 'offset commit failed; will retry');
      }
    });
    return this.committing;
  }
}

const STOPPED = Symbol('stopped');
/** A join slower than this is worth explaining. */
const SLOW_JOIN_MS = 3000;
type DecodeResult = { value: unknown } | { filtered: string } | { error: unknown } | typeof STOPPED;
