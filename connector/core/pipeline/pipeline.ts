/**
 * The one event pipeline behind every entry point (Kafka `run`, Airbyte `write`, `preview`):
 * track → decode → map → plan → deliver → settle → acknowledge, with backpressure. It knows no
 * Kafka and no HTTP: it drives one `Source` port (events and assignment changes in; commits of
 * acknowledged prefixes and pause/resume out) and owns the acknowledgements (AckTracker +
 * CommitPolicy) between them. A fatal error reaches the run through its `RunControl`; the observer only reports.
 */
import { AckTracker, type AckToken, type Lease } from '../acks/ack-tracker.js';
import { CommitPolicy, type CommitObserver } from '../acks/commit-policy.js';
import type { Clock } from '../clock.js';
import { CircuitBreaker } from '../delivery/circuit-breaker.js';
import type { Claim, Settlement } from '../delivery/lanes.js';
import type { ParkedHost, ParkedSink } from '../delivery/route.js';
import { OutageGate } from '../delivery/outage-gate.js';
import type { UpdateResult } from '../delivery/send-result.js';
import type { EventOrigin } from '../errors.js';
import type { MappingOutcome } from '../mapping/index.js';
import type { ProfileUpdate } from '../profile.js';
import { isRetryable, retryAfterOf, type RetryPolicy } from '../retry.js';
import { planEvent } from './plan.js';
import type { AssignmentFollower, InboundEvent, Intake, Source, SourcePartition } from './source.js';
import { REPLAY_OMIT_HEADER } from './superseded.js';

/** How one event ended. `cancelled` events were dropped unsent because their partition moved to another member. */
export type EventOutcome =
  { kind: 'delivered'; updates: number } | { kind: 'filtered'; reason: string } | { kind: 'failed'; error: unknown; attempts: number } | { kind: 'cancelled' };

/** Turns a payload into the mapping's input; a promise only while something must be fetched (a writer schema). */
export interface PayloadDecoder {
  decode(topic: string, payload: Uint8Array, origin: EventOrigin): unknown;
}

/** Maps decoded values: one outcome per mapping of the topic. */
export interface EventMapper {
  mapEvent(topic: string, value: unknown): MappingOutcome[];
}

/** Delivers profile updates, settling each exactly once (the lanes, or a recording for preview). */
export interface UpdateDelivery {
  submit(update: ProfileUpdate, settlement: Settlement, claim?: Claim): void;
  /** True while sending waits (quota spent, endpoint down): fetching should pause. */
  readonly blocked: boolean;
  onBlockedChange(listener: () => void): void;
  /** Nothing more will come until something settles (the pipeline is full, or draining): send what waits to be batched. */
  flush?(): void;
}

/** Keeps an event that failed for its own fault; resolves once it is stored (a Kafka ack), rejects when it cannot be. */
export interface DeadLetterSink<M> {
  write(failed: { event: InboundEvent<M>; error: unknown; attempts: number; failedAt: Date }): Promise<void>;
}

/** Where an event sat: what metrics and logs say of a settled event (its record may be gone by then). */
export interface EventPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** What the pipeline reports, for metrics and logs; every member optional, none decides anything. */
export interface PipelineObserver<M> {
  consumed?(topic: string): void;
  /** `record` is the event's record while the pipeline still holds it (a source that cannot read it again keeps it). */
  settled?(event: EventPosition, outcome: EventOutcome, heldMs: number, record?: InboundEvent<M>): void;
  /** The mapping cut these attributes' values (long_values: truncate). */
  truncated?(attributes: string[]): void;
}

/** When acknowledged progress goes to the source (see CommitPolicy). */
export interface CommitSettings {
  /** Commit this often while something is acknowledged; 0 commits at every acknowledgement. */
  intervalMs: number;
  /** Commit without waiting for the timer once this many events were acknowledged since the last commit. */
  threshold: number;
  observer?: CommitObserver;
}

export interface PipelineOptions<M> {
  /** Where events come from and where commits go. */
  source: Source<M>;
  decoder: PayloadDecoder;
  mapper: EventMapper;
  delivery: UpdateDelivery;
  deadLetters: DeadLetterSink<M>;
  commits: CommitSettings;
  /** Told each new assignment once the tracker holds it (the quota share, the lag read, the backlog). */
  followers?: AssignmentFollower[];
  /** Events fetched and not committed at most (it may depend on the route, so it is asked each time); beyond it `full` holds and the entry point stops reading. */
  maxPending: number | (() => number);
  /** Spaces the waits while decoding needs an unreachable service (the schema registry). */
  decodeRetry: RetryPolicy;
  /** The schema registry's outage gate (its budget ends the run); without it, a registry outage is waited out unbounded. */
  decodeGate?: OutageGate;
  clock: Clock;
  observer?: PipelineObserver<M>;
}

const STOPPED = Symbol('stopped');

/** The decoded value, or why the event has none. */
type Decoded = { value: unknown } | { failed: unknown } | typeof STOPPED;

export class EventPipeline<M> implements Intake<M> {
  private unsettled = 0;
  private stopping = false;
  /** Fetching stopped for good (a fatal error, a stop): the source is never resumed again. */
  private halted = false;
  private sourcePaused = false;
  private readonly acks = new AckTracker();
  private readonly commits: CommitPolicy;
  private readonly drainWaiters: Array<() => void> = [];
  private readonly roomWaiters: Array<{ ready: () => boolean; resolve: () => void }> = [];
  private readonly decodeGate: OutageGate;
  /** What every held event settles into: one object for all of them, so an event costs no closure. */
  private readonly owner: HeldEventOwner<M>;
  /** Per partition, the host of its parked events under its current lease. */
  private readonly parkedHosts = new Map<string, ParkedPartition<M>>();
  private lastParkedHost: ParkedPartition<M> | undefined;

  constructor(private readonly options: PipelineOptions<M>) {
    const { source, clock } = options;
    this.commits = new CommitPolicy({ ...options.commits, tracker: this.acks, commit: (commits) => source.commit(commits), clock });
    this.decodeGate =
      options.decodeGate ??
      new OutageGate({
        // The decoder's client already retried its request: one failure means the service is down.
        breaker: new CircuitBreaker({ endpoint: 'schema registry', threshold: 1, probePolicy: options.decodeRetry, clock: options.clock }),
        endpoint: 'the schema registry',
        clock: options.clock,
      });
    this.owner = {
      canReread: options.source.reread !== undefined,
      ended: (held, outcome) => this.settle(held, outcome),
      parkedHost: (held) => this.parkedHost(held),
    };
    options.delivery.onBlockedChange(() => this.roomMayHaveReturned());
    this.commits.onCommitted(() => this.roomMayHaveReturned());
  }

  /** Opens the source, then starts the periodic commit (no timer is left behind when opening fails); resolves once both are under way. */
  async start(): Promise<void> {
    await this.options.source.open(this);
    this.commits.start();
  }

  /** Events fetched and not yet committed. */
  get pending(): number {
    return this.acks.uncommitted();
  }

  /** True while the entry point must not hand in more: too much uncommitted, or delivery blocked. */
  get full(): boolean {
    return this.pending >= this.maxPending() || this.options.delivery.blocked;
  }

  private maxPending(): number {
    const { maxPending } = this.options;
    return typeof maxPending === 'number' ? maxPending : maxPending();
  }

  /** Takes ownership of exactly these partitions (a consumer group's new assignment), then tells the followers. */
  assigned(partitions: SourcePartition[]): void {
    this.acks.assign(partitions);
    for (const follower of this.options.followers ?? []) follower.owns(partitions);
    this.roomMayHaveReturned();
  }

  /**
   * Gives up every partition: their progress is committed under the assignment that owns them,
   * their queued updates are dropped unsent (the new owner reads them again), and nothing more
   * is acknowledged for them.
   */
  revoked(): void {
    this.commits.beforeRevoke();
    this.acks.revokeAll();
    this.roomMayHaveReturned();
  }

  /**
   * Waits for room, up to the source's `holdMs`; past it the source is paused (it resumes once
   * `whenRoom` holds) and the source's read ends. After `halt` the answer is always false.
   */
  async room(): Promise<boolean> {
    const { holdMs } = this.options.source;
    if (holdMs === undefined) {
      await this.whenNotFull();
      return !this.halted;
    }
    let cancel: (() => void) | undefined;
    const timedOut = new Promise<false>((resolve) => (cancel = this.options.clock.schedule(holdMs, () => resolve(false))));
    const ready = await Promise.race([this.whenNotFull().then(() => true), timedOut]);
    cancel?.();
    if (!ready) this.pauseSource();
    return ready && !this.halted;
  }

  /** Stops fetching for good (a fatal error, a stop): what was fetched keeps being delivered, nothing more is read. */
  halt(): void {
    this.halted = true;
    this.options.source.pause();
  }

  /** Ends the run: stops fetching, drains in-flight events up to `timeoutMs`, then commits what is acknowledged; resolves with whether all settled. */
  async close(timeoutMs?: number): Promise<boolean> {
    this.halt();
    const drained = await this.drain(timeoutMs);
    this.commits.stop();
    await this.commits.flush();
    return drained;
  }

  /** Resolves once `full` no longer holds: the next event may be taken. Nothing more comes meanwhile, so delivery sends what it holds back. */
  whenNotFull(): Promise<void> {
    this.options.delivery.flush?.();
    return this.when(() => !this.full);
  }

  /**
   * Resolves once reading may resume after a pause: half the bound free and delivery unblocked,
   * so that fetching does not flap at the limit.
   */
  whenRoom(): Promise<void> {
    return this.when(() => this.pending <= this.maxPending() / 2 && !this.options.delivery.blocked);
  }

  /** Takes one event (see `Intake.accept`); the hot path handles it synchronously. */
  accept(event: InboundEvent<M>, keepAlive?: () => Promise<void>): void | Promise<void> {
    const token = this.acks.track(event.input, event.partition, event.offset);
    if (!token) return;
    this.unsettled++;
    this.options.observer?.consumed?.(event.topic);
    const held = new HeldEvent(this.owner, token, event.topic, event, this.options.clock.now());
    if (event.payload === null) return this.settle(held, { kind: 'filtered', reason: 'tombstone (null value)' });
    const origin = { topic: event.topic, partition: event.partition, offset: String(event.offset) };
    let decoded: unknown;
    try {
      decoded = this.options.decoder.decode(event.topic, event.payload, origin);
    } catch (error) {
      if (!isRetryable(error)) return this.settle(held, { kind: 'failed', error, attempts: 0 });
      decoded = Promise.reject(error);
    }
    if (!(decoded instanceof Promise)) return this.route(held, event, decoded);
    return this.decodeWaiting(decoded, event, origin, keepAlive).then((result) => {
      if (result === STOPPED) return this.abandon();
      if ('failed' in result) return this.settle(held, { kind: 'failed', error: result.failed, attempts: 0 });
      this.route(held, event, result.value);
    });
  }

  /**
   * Stops waiting on decoders; resolves once everything in flight settled, or after `timeoutMs`
   * (no limit when absent), with whether it did.
   */
  async drain(timeoutMs?: number): Promise<boolean> {
    this.stopping = true;
    if (this.unsettled === 0) return true;
    this.options.delivery.flush?.();
    const settled = new Promise<boolean>((resolve) => this.drainWaiters.push(() => resolve(true)));
    if (timeoutMs === undefined) return settled;
    let cancel: (() => void) | undefined;
    const drained = await Promise.race([settled, new Promise<boolean>((resolve) => (cancel = this.options.clock.schedule(timeoutMs, () => resolve(false))))]);
    cancel?.();
    return drained;
  }

  /** The slow path of decoding: retries while the failure is retryable, never skipping the record. */
  private async decodeWaiting(first: Promise<unknown>, event: InboundEvent<M>, origin: EventOrigin, keepAlive?: () => Promise<void>): Promise<Decoded> {
    const { decoder, decodeRetry } = this.options;
    const gate = this.decodeGate;
    let attempt = first;
    for (let n = 1; ; n++) {
      try {
        const value = await attempt;
        gate.recordSuccess();
        return { value };
      } catch (error) {
        if (!isRetryable(error)) return { failed: error };
        // Past the outage budget the gate reported it (the run ends); nothing more is decoded.
        if (this.stopping || gate.budgetExhausted) return STOPPED;
        gate.recordFailure(error, true, retryAfterOf(error));
        await gate.sleep(gate.probeDueInMs() ?? decodeRetry.delay(n));
        await keepAlive?.();
        if (gate.budgetExhausted) return STOPPED;
        gate.startProbe();
        attempt = Promise.resolve().then(() => decoder.decode(event.topic, event.payload as Uint8Array, origin));
      }
    }
  }

  /** Maps and plans the event, then sends its updates or settles it at once. */
  private route(held: HeldEvent<M>, event: InboundEvent<M>, value: unknown): void {
    let outcomes: MappingOutcome[];
    try {
      outcomes = this.options.mapper.mapEvent(event.topic, value);
    } catch (error) {
      return this.settle(held, { kind: 'failed', error, attempts: 0 });
    }
    const plan = planEvent(outcomes, event.header(REPLAY_OMIT_HEADER));
    if (plan.kind === 'filter') return this.settle(held, { kind: 'filtered', reason: plan.reason });
    if (plan.kind === 'dead-letter') return this.settle(held, { kind: 'failed', error: plan.error, attempts: 0 });
    if (plan.truncated.length > 0) this.options.observer?.truncated?.(plan.truncated);
    held.expect(plan.updates.length);
    for (const update of plan.updates) this.options.delivery.submit(update, held, held.lease);
  }

  /** Ends an event: failed ones go to the dead-letter sink first (their record read again if it was let go); cancelled ones are not acknowledged. */
  private settle(held: HeldEvent<M>, outcome: EventOutcome): void {
    if (outcome.kind === 'cancelled') return this.abandon();
    if (outcome.kind !== 'failed') return this.acknowledge(held, outcome);
    const { source, deadLetters, clock } = this.options;
    const record = held.event ? Promise.resolve(held.event) : (source.reread as Reread<M>)(held.stream, held.partition, held.offset);
    record
      .then((event) => deadLetters.write({ event, error: outcome.error, attempts: outcome.attempts, failedAt: new Date(clock.now()) }))
      .then(
        () => this.acknowledge(held, outcome),
        // Not stored: leave the offset uncommitted so the event is read again.
        () => this.abandon(),
      );
  }

  private acknowledge(held: HeldEvent<M>, outcome: EventOutcome): void {
    this.acks.ack(held);
    this.commits.acked();
    this.options.observer?.settled?.(held, outcome, this.options.clock.now() - held.fetchedAt, held.event);
    this.release();
  }

  /** An event left without acknowledgement (cancelled, or its dead letter not stored). */
  private abandon(): void {
    this.release();
  }

  private release(): void {
    this.unsettled--;
    if (this.unsettled === 0) for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  /** The host that ends the parked events of `held`'s partition and topic under its lease (one per partition, topic and lease). */
  private parkedHost(held: HeldEvent<M>): ParkedHost {
    // Events park in fetch order, a batch of one partition after another: the last host mostly fits.
    const last = this.lastParkedHost;
    if (last?.lease === held.lease && last.partition === held.partition && last.stream === held.stream && last.topic === held.topic) return last;
    // A source's input may carry several topics (Airbyte streams): the topic is part of the host.
    const key = `${held.partition}:${held.stream}:${held.topic}`;
    const known = this.parkedHosts.get(key);
    if (known?.lease === held.lease) return (this.lastParkedHost = known);
    const host = new ParkedPartition(this.owner, held, held.topic);
    this.parkedHosts.set(key, host);
    return (this.lastParkedHost = host);
  }

  /** Pauses the source until there is room again (once at a time), unless fetching stopped for good. */
  private pauseSource(): void {
    if (this.sourcePaused || this.halted) return;
    this.sourcePaused = true;
    this.options.source.pause();
    void this.whenRoom().then(() => {
      this.sourcePaused = false;
      if (!this.halted) this.options.source.resume();
    });
  }

  private when(ready: () => boolean): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push({ ready, resolve }));
  }

  /** Room changes only when a commit releases events or delivery (un)blocks: waiters are checked then, never polled. */
  private roomMayHaveReturned(): void {
    if (this.roomWaiters.length === 0) return;
    const waiting = this.roomWaiters.splice(0);
    for (const waiter of waiting) {
      if (waiter.ready()) waiter.resolve();
      else this.roomWaiters.push(waiter);
    }
  }
}

type Reread<M> = NonNullable<Source<M>['reread']>;

/** What a held event reports to: the pipeline. */
interface HeldEventOwner<M> {
  /** Whether the source can read a record again by its position, so that a parked event may let go of it. */
  readonly canReread: boolean;
  ended(held: HeldEvent<M>, outcome: EventOutcome): void;
  /** Where `held` goes once parked as a position. */
  parkedHost(held: HeldEvent<M>): ParkedHost;
}

/**
 * One event on its way through delivery, and the settlement of each of its updates: its
 * acknowledgement token (copied in, so that a held event is one object), how many updates are
 * still out, and its record — let go once an update parks (a bulk row waiting for its batch's
 * report) when the source can read it again for a dead letter; an event of one update then
 * leaves only its position behind (ParkedPartition). The last update to settle ends the event:
 * failed if any failed, cancelled if any was.
 */
class HeldEvent<M> implements Settlement, EventPosition, AckToken {
  readonly topic: string;
  readonly stream: string;
  readonly partition: number;
  readonly offset: number;
  readonly lease: Lease;
  private updates = 0;
  private remaining = 0;
  /** How the event ends unless every update is delivered: the first failure, or a cancellation (which wins). */
  private ending: { error: unknown; attempts: number } | 'cancelled' | undefined;

  constructor(
    private readonly owner: HeldEventOwner<M>,
    token: AckToken,
    topic: string,
    public event: InboundEvent<M> | undefined,
    readonly fetchedAt: number,
  ) {
    this.topic = topic;
    this.stream = token.stream;
    this.partition = token.partition;
    this.offset = token.offset;
    this.lease = token.lease;
  }

  /** The event's updates are about to be submitted: this many settlements end it. */
  expect(updates: number): void {
    this.updates = updates;
    this.remaining = updates;
  }

  settle(result: UpdateResult): void {
    if (result.status === 'cancelled') this.ending = 'cancelled';
    else if (result.status === 'failed' && this.ending === undefined) this.ending = { error: result.error, attempts: result.attempts };
    if (--this.remaining > 0) return;
    const ending = this.ending;
    let outcome: EventOutcome;
    if (ending === 'cancelled') outcome = { kind: 'cancelled' };
    else if (ending) outcome = { kind: 'failed', ...ending };
    else outcome = { kind: 'delivered', updates: this.updates };
    this.owner.ended(this, outcome);
  }

  park(sink: ParkedSink): boolean {
    if (!this.owner.canReread) return false;
    this.event = undefined;
    // With several updates out, this object counts which have settled.
    if (this.updates !== 1) return false;
    sink.add(this.owner.parkedHost(this), this.offset, this.fetchedAt);
    return true;
  }
}

/**
 * Ends the parked events of one partition under one lease from their positions: each becomes a
 * held event again (without its record, which the source reads again for a dead letter) only
 * when its update settles.
 */
class ParkedPartition<M> implements ParkedHost, Omit<AckToken, 'offset'> {
  readonly stream: string;
  readonly partition: number;
  readonly lease: Lease;

  constructor(
    private readonly owner: HeldEventOwner<M>,
    token: Omit<AckToken, 'offset'>,
    readonly topic: string,
  ) {
    this.stream = token.stream;
    this.partition = token.partition;
    this.lease = token.lease;
  }

  settleParked(offset: number, fetchedAt: number, result: UpdateResult): void {
    const held = new HeldEvent(this.owner, { stream: this.stream, partition: this.partition, offset, lease: this.lease }, this.topic, undefined, fetchedAt);
    held.expect(1);
    held.settle(result);
  }
}
