import pLimit, { type LimitFunction } from 'p-limit';
import type { Clock } from '../clock.js';
import { OutageBudgetError } from '../errors.js';
import { identityKey, type ProfileUpdate, type TargetRequest } from '../profile.js';
import type { RetryPolicy } from '../retry.js';
import type { BulkRoute } from './bulk-route.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { RoutePolicy } from './route-policy.js';
import type { Budget } from './budget.js';
import type { SendResult, UpdateResult } from './send-result.js';

/**
 * Whether the work an update belongs to is still wanted. Its partition may move to another member
 * before the update is sent: the new owner reads the event again, so this member must not send it.
 */
export interface Claim {
  readonly owned: boolean;
}

/** Hooks for metrics and logs; every member optional. */
export interface LanesObserver {
  requestStarted?(request: TargetRequest): void;
  /** A request got its answer: `error` is absent on success. */
  requestFinished?(request: TargetRequest, outcome: { error?: unknown; durationMs: number }): void;
  retryScheduled?(error: unknown, delayMs: number): void;
  coalesced?(): void;
  /** Profiles whose next request waits for a retry timer or for the endpoint to come back. */
  retryBacklog?(profiles: number): void;
  /** The endpoint has been down longer than the outage budget; the run must end without committing past it. */
  outageBudgetExhausted?(error: OutageBudgetError): void;
  /** A profile's merged update set off by this route; `profile` is its identity key. */
  routed?(route: 'single' | 'bulk', profile: string): void;
  /** Sending waits: `budget` (Budget.name) ran out; its next unit is due in `refillInMs`. */
  quotaExhausted?(info: { budget: string; refillInMs: number }): void;
  /** The budget that ran out gave a unit again after `waitedMs`: sending resumed. */
  quotaRestored?(info: { budget: string; waitedMs: number }): void;
}

export interface LanesOptions {
  concurrency: number;
  /** Backoff between attempts; its `maxAttempts` bounds the failures that are a request's own fault. */
  retry: RetryPolicy;
  /** Tells an outage of Target from a bad request; while open only its probes are sent. */
  breaker: CircuitBreaker;
  /** How long the breaker may stay open before the run gives up; unbounded when absent. */
  outageBudgetMs?: number;
  quota: Budget;
  clock: Clock;
  buildRequests(update: ProfileUpdate): TargetRequest[];
  /** Sends one request and says what became of it; never rejects. */
  send(request: TargetRequest): Promise<SendResult>;
  /** The bulk route and when to take it; without it every update goes by single requests. */
  bulk?: { route: BulkRoute; policy: RoutePolicy };
  observer?: LanesObserver;
}

type Settle = (result: UpdateResult) => void;

/** Lane keys of thirdPartyId profiles start so (see identityKey). */
const THIRD_PARTY_PREFIX = 'mbox3rdPartyId:';

/**
 * Updates queued under one claim, one after the other, merged as they arrive: a queue of a busy
 * profile's events costs a settle function each, not its attributes.
 */
interface Run {
  attributes: Record<string, string>;
  /** Whether `attributes` is the run's own copy; the first update's object is merged into only after copying it. */
  copied: boolean;
  settles: Settle[];
  claim?: Claim;
}

/** Work queued for a profile while its previous request is still being delivered, in runs by claim. */
interface Pending {
  identity: ProfileUpdate['identity'];
  runs: Run[];
}

/** A (possibly merged) update of a profile on its way, by one route or the other. */
type Active = SingleActive | BulkActive;

/** The updates a merged update settles, and whether they are still wanted. */
interface Covered {
  settles: Settle[];
  claims: Array<Claim | undefined>;
}

/** A row waiting in a bulk batch: the bulk route settles it. */
interface BulkActive extends Covered {
  kind: 'bulk';
}

/** The request(s) of one (possibly merged) update, sent one after another. */
interface SingleActive extends Covered {
  kind: 'single';
  requests: TargetRequest[];
  next: number;
  /** Failures that were this request's own fault (the endpoint served others meanwhile). */
  attempts: number;
  /** Every failure of the current request, own or not: spaces the retries. */
  failures: number;
  /** The breaker's success count when the current request was first sent or last failed. */
  healthMark: number;
}

/** A lane's queued updates merged, ready for a route. */
interface Merged extends Covered {
  identity: ProfileUpdate['identity'];
  attributes: Record<string, string>;
}

interface Lane {
  key: string;
  active?: Active;
  pending?: Pending;
  /** Cancels the retry timer the lane waits on. */
  cancelRetry?: () => void;
}

/**
 * Delivers profile updates to Target. One lane per profile keeps updates in submit order with
 * at most one request in flight per profile; updates that queue behind a busy lane are merged
 * (later value wins per attribute) and the merged request settles every update it covers.
 * Lanes share a p-limit pool of `concurrency` slots and the rolling quota; failed requests wait
 * for their retry without holding a slot.
 *
 * A failure counts against a request only when the endpoint answered other requests since that
 * request was first sent or last failed: then it is the request's fault, and it dead-letters after `maxAttempts` (at
 * once when not retryable). When requests fail across profiles with no success between them the
 * circuit breaker opens: lanes park, one probe at a time tests the endpoint, and every parked
 * lane resumes when it answers. An outage is therefore waited out, never dead-lettered.
 */
export class Lanes {
  private readonly lanes = new Map<string, Lane>();
  private readonly limit: LimitFunction;
  private readonly parked = new Set<Lane>();
  private readonly retryTimers = new Set<() => void>();
  private probeLane: Lane | undefined;
  private cancelProbeTimer: (() => void) | undefined;
  private cancelBudgetTimer: (() => void) | undefined;
  private waitingLanes = 0;
  private unsettled = 0;
  private idleWaiters: Array<() => void> = [];
  private quotaBlocked = false;
  /** The budget that ran out and since when, until it gives a unit again. */
  private exhaustion: { budget: string; since: number } | undefined;
  /** Ends each wait for quota at once, with no unit taken (see cancelWaits). */
  private readonly quotaWaits = new Set<() => void>();
  /** Set by cancelWaits: nothing more waits for quota, a retry or the endpoint. */
  private stopping = false;
  private readonly blockedListeners: Array<() => void> = [];

  constructor(private readonly options: LanesOptions) {
    this.limit = pLimit(options.concurrency);
    options.bulk?.route.onBlockedChange(() => this.blockedChanged());
  }

  /**
   * Queues an update; `settle` is called exactly once when it is delivered, has failed for good,
   * or — if its claim ended before it was sent — was cancelled.
   */
  submit(update: ProfileUpdate, settle: Settle, claim?: Claim): void {
    this.unsettled++;
    const key = identityKey(update.identity);
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { key };
      this.lanes.set(key, lane);
    }
    if (lane.pending) {
      const last = lane.pending.runs[lane.pending.runs.length - 1] as Run;
      if (last.claim === claim) {
        if (!last.copied) {
          last.attributes = { ...last.attributes };
          last.copied = true;
        }
        Object.assign(last.attributes, update.attributes);
        last.settles.push(settle);
      } else lane.pending.runs.push({ attributes: update.attributes, copied: false, settles: [settle], claim });
      this.options.observer?.coalesced?.();
      return;
    }
    lane.pending = { identity: update.identity, runs: [{ attributes: update.attributes, copied: false, settles: [settle], claim }] };
    if (!lane.active) this.schedule(lane);
  }

  /** True while sending waits: the quota is spent or Target (or its bulk endpoint) is down. Fetching should pause. */
  get blocked(): boolean {
    return this.quotaBlocked || this.options.breaker.isOpen || this.options.bulk?.route.blocked === true;
  }

  /** Sends what waits to be batched: nothing more will come soon (the pipeline is full or its input ended). */
  flush(): void {
    this.options.bulk?.route.flush();
  }

  /** Calls `listener` whenever `blocked` may have changed, so that fetching resumes without polling. */
  onBlockedChange(listener: () => void): void {
    this.blockedListeners.push(listener);
  }

  private blockedChanged(): void {
    for (const listener of this.blockedListeners) listener();
  }

  /** Resolves once every submitted update has settled. */
  whenIdle(): Promise<void> {
    if (this.unsettled === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * For a stop: updates waiting for quota, for a retry or for the endpoint to come back are
   * settled `cancelled` (left unacknowledged, so read again by the next run) instead of waiting;
   * requests in flight finish, and what queues behind them is sent only while no wait is needed.
   */
  cancelWaits(): void {
    this.stopping = true;
    this.cancelProbeTimer?.();
    this.cancelProbeTimer = undefined;
    this.cancelBudgetTimer?.();
    this.cancelBudgetTimer = undefined;
    for (const end of [...this.quotaWaits]) end();
    const waiting = [...this.parked, ...[...this.lanes.values()].filter((lane) => lane.cancelRetry)];
    this.setWaiting(-waiting.length);
    this.parked.clear();
    for (const lane of waiting) {
      if (lane.cancelRetry) {
        lane.cancelRetry();
        this.retryTimers.delete(lane.cancelRetry);
        lane.cancelRetry = undefined;
      }
      this.cancelLane(lane);
    }
  }

  /** Settles everything of a lane that waits, active and queued, as cancelled. */
  private cancelLane(lane: Lane): void {
    const pending = lane.pending;
    lane.pending = undefined;
    if (pending) this.settleAll(pending.runs.flatMap((r) => r.settles), { status: 'cancelled' });
    if (lane.active) this.finish(lane, lane.active, { status: 'cancelled' });
    else this.afterLane(lane);
  }

  /** Cancels every timer; unsettled updates stay unsettled (their offsets are not committed). */
  stop(): void {
    this.options.bulk?.route.stop();
    for (const cancel of this.retryTimers) cancel();
    this.retryTimers.clear();
    this.cancelProbeTimer?.();
    this.cancelBudgetTimer?.();
    this.parked.clear();
    this.limit.clearQueue();
  }

  private schedule(lane: Lane): void {
    // Bulk rows take no concurrency slot: they wait for their batch, not for an answer.
    if (!lane.active && this.options.bulk?.policy.bulk) {
      const merged = this.merge(lane);
      if (!merged) return;
      const row = this.options.bulk.route.rowFor(merged.identity, merged.attributes);
      if (row) {
        this.startBulk(lane, merged, row, this.options.bulk.route);
        return;
      }
      if (!this.startSingle(lane, merged)) return;
    }
    void this.limit(() => this.sendNext(lane));
  }

  /** Hands the merged update to the bulk route as a row; the lane waits for the row's status. */
  private startBulk(lane: Lane, merged: Merged, row: Record<string, string>, route: BulkRoute): void {
    const active: BulkActive = { kind: 'bulk', settles: merged.settles, claims: merged.claims };
    lane.active = active;
    this.options.observer?.routed?.('bulk', lane.key);
    route.add(merged.identity.value, row, (result) => this.finish(lane, active, result));
  }

  private async sendNext(lane: Lane): Promise<void> {
    const probe = lane === this.probeLane;
    if (lane.active?.kind === 'bulk') return;
    const active = lane.active ?? this.activate(lane);
    if (!active || this.dropDead(active)) {
      if (active) this.finish(lane, active, { status: 'cancelled' });
      if (probe) this.withdrawProbe();
      return;
    }
    const { breaker, observer, quota, clock } = this.options;
    if (this.stopping && (breaker.isOpen || probe)) {
      if (probe) this.withdrawProbe();
      return this.cancelLane(lane);
    }
    if (breaker.isOpen && !probe) {
      this.park(lane);
      return;
    }
    if (!(await this.awaitQuota())) {
      if (probe) this.withdrawProbe();
      return this.cancelLane(lane);
    }
    if (this.dropDead(active)) {
      // Its partition moved while it waited for quota: the new owner sends these events, newer ones after them.
      quota.finished();
      this.finish(lane, active, { status: 'cancelled' });
      if (probe) this.withdrawProbe();
      return;
    }
    const request = active.requests[active.next] as TargetRequest;
    if (active.failures === 0) active.healthMark = breaker.successes;
    observer?.requestStarted?.(request);
    const started = clock.now();
    const result = await this.options.send(request);
    quota.finished();
    if (result.kind !== 'acknowledged') {
      observer?.requestFinished?.(request, { error: result.error, durationMs: clock.now() - started });
      this.failed(lane, active, result, probe);
      return;
    }
    observer?.requestFinished?.(request, { durationMs: clock.now() - started });
    // An mbox call ends Target's override of earlier batches for this profile.
    if (lane.key.startsWith(THIRD_PARTY_PREFIX)) this.options.bulk?.route.forget(lane.key.slice(THIRD_PARTY_PREFIX.length));
    if (probe) this.probeLane = undefined;
    const wasOpen = breaker.isOpen;
    breaker.recordSuccess();
    if (wasOpen) {
      this.endOutage();
      this.blockedChanged();
    }
    active.next++;
    active.attempts = 0;
    active.failures = 0;
    if (active.next < active.requests.length) this.schedule(lane);
    else this.finish(lane, active, { status: 'delivered' });
  }

  /** Decides what a failed request does next: retry later, wait for the endpoint, or fail for good. */
  private failed(lane: Lane, active: SingleActive, result: Exclude<SendResult, { kind: 'acknowledged' }>, probe: boolean): void {
    const { breaker, retry, observer } = this.options;
    const { error } = result;
    const retryAfterMs = result.kind === 'retryable' ? result.retryAfterMs : undefined;
    const own = breaker.successes > active.healthMark;
    active.healthMark = breaker.successes;
    const wasOpen = breaker.isOpen;
    breaker.recordFailure(error, probe, retryAfterMs);
    if (probe) this.probeLane = undefined;
    if (!wasOpen && breaker.isOpen) {
      this.startOutage();
      this.blockedChanged();
    }
    active.failures++;
    if (own) active.attempts++;
    if (this.dropDead(active)) {
      this.finish(lane, active, { status: 'cancelled' });
    } else if (own && (result.kind === 'permanent' || retry.exhausted(active.attempts))) {
      this.finish(lane, active, { status: 'failed', error, attempts: active.attempts });
    } else if (breaker.isOpen) {
      this.park(lane);
    } else {
      const delay = retry.delay(active.failures, retryAfterMs);
      observer?.retryScheduled?.(error, delay);
      this.retryLater(lane, delay);
    }
    if (probe) this.scheduleProbe();
  }

  private retryLater(lane: Lane, delayMs: number): void {
    if (this.stopping) return this.cancelLane(lane);
    this.setWaiting(+1);
    const cancel = this.options.clock.schedule(delayMs, () => {
      this.retryTimers.delete(cancel);
      lane.cancelRetry = undefined;
      this.setWaiting(-1);
      this.schedule(lane);
    });
    lane.cancelRetry = cancel;
    this.retryTimers.add(cancel);
  }

  /** Holds a lane until the endpoint answers again (or it is picked as the probe). */
  private park(lane: Lane): void {
    if (this.stopping) return this.cancelLane(lane);
    if (this.parked.has(lane)) return;
    this.parked.add(lane);
    this.setWaiting(+1);
    if (!this.cancelProbeTimer && !this.probeLane) this.scheduleProbe();
  }

  private startOutage(): void {
    if (this.stopping) return;
    const budget = this.options.outageBudgetMs;
    this.scheduleProbe();
    if (budget === undefined) return;
    this.cancelBudgetTimer = this.options.clock.schedule(budget, () => {
      this.cancelBudgetTimer = undefined;
      if (!this.options.breaker.isOpen) return;
      this.options.observer?.outageBudgetExhausted?.(
        new OutageBudgetError(`Target has been unreachable for longer than the outage budget (delivery.outage_budget_ms: ${budget})`),
      );
    });
  }

  /** The endpoint answered: every parked lane goes back to the pool, oldest first. */
  private endOutage(): void {
    this.cancelBudgetTimer?.();
    this.cancelBudgetTimer = undefined;
    this.cancelProbeTimer?.();
    this.cancelProbeTimer = undefined;
    const lanes = [...this.parked];
    this.parked.clear();
    this.setWaiting(-lanes.length);
    for (const lane of lanes) this.schedule(lane);
  }

  private scheduleProbe(): void {
    this.cancelProbeTimer?.();
    this.cancelProbeTimer = undefined;
    if (this.stopping) return;
    const dueInMs = this.options.breaker.probeDueInMs();
    if (dueInMs === undefined) return;
    this.cancelProbeTimer = this.options.clock.schedule(dueInMs, () => {
      this.cancelProbeTimer = undefined;
      this.probe();
    });
  }

  /**
   * Sends the next request of the longest-parked lane as the probe. A lane whose probe failed is
   * parked again at the back, so successive probes try different profiles: one bad request
   * cannot keep the breaker open while others would succeed.
   */
  private probe(): void {
    const lane = this.parked.values().next().value;
    if (!lane) return; // nothing to send; the next lane to park schedules the probe
    if (!this.options.breaker.startProbe()) return this.scheduleProbe();
    this.parked.delete(lane);
    this.setWaiting(-1);
    this.probeLane = lane;
    this.schedule(lane);
  }

  /** The probe lane had nothing left to send: hand the slot to another lane. */
  private withdrawProbe(): void {
    this.probeLane = undefined;
    this.options.breaker.cancelProbe();
    this.scheduleProbe();
  }

  private setWaiting(delta: number): void {
    if (delta === 0) return;
    this.waitingLanes += delta;
    this.options.observer?.retryBacklog?.(this.waitingLanes);
  }

  /**
   * Takes the lane's pending updates, merged in submit order (later value wins). Runs no longer
   * claimed are cancelled here, before anything of theirs is sent; undefined when none is left.
   */
  private merge(lane: Lane): Merged | undefined {
    const pending = lane.pending;
    if (!pending) return undefined;
    lane.pending = undefined;
    const live = pending.runs.filter((r) => r.claim?.owned !== false);
    this.settleAll(
      pending.runs.filter((r) => !live.includes(r)).flatMap((r) => r.settles),
      { status: 'cancelled' },
    );
    if (live.length === 0) {
      this.afterLane(lane);
      return undefined;
    }
    const attributes = live.length === 1 ? (live[0] as Run).attributes : Object.assign({}, ...live.map((r) => r.attributes));
    return { identity: pending.identity, attributes, settles: live.flatMap((r) => r.settles), claims: live.map((r) => r.claim) };
  }

  /** Turns a merged update into requests and makes it the lane's active one; false when there is nothing to send. */
  private startSingle(lane: Lane, merged: Merged): boolean {
    try {
      const requests = this.options.buildRequests({ identity: merged.identity, attributes: merged.attributes });
      if (requests.length === 0) {
        this.settleAll(merged.settles, { status: 'delivered' });
        this.afterLane(lane);
        return false;
      }
      lane.active = { kind: 'single', requests, next: 0, attempts: 0, failures: 0, healthMark: 0, settles: merged.settles, claims: merged.claims };
      this.options.observer?.routed?.('single', lane.key);
      return true;
    } catch (error) {
      this.settleAll(merged.settles, { status: 'failed', error, attempts: 0 });
      this.afterLane(lane);
      return false;
    }
  }

  /** The lane's next single update, merged from what is pending; undefined when nothing is to be sent. */
  private activate(lane: Lane): SingleActive | undefined {
    const merged = this.merge(lane);
    if (!merged || !this.startSingle(lane, merged)) return undefined;
    return lane.active as SingleActive;
  }

  /** True when no update behind the active request is live any more: sending would serve nobody. */
  private dropDead(active: Active): boolean {
    return active.claims.every((claim) => claim?.owned === false);
  }

  private finish(lane: Lane, active: Active, result: UpdateResult): void {
    lane.active = undefined;
    this.settleAll(active.settles, result);
    this.afterLane(lane);
  }

  private afterLane(lane: Lane): void {
    if (lane.pending) this.schedule(lane);
    else this.lanes.delete(lane.key);
  }

  private settleAll(settles: Settle[], result: UpdateResult): void {
    if (settles.length === 0) return;
    this.unsettled -= settles.length;
    for (const settle of settles) settle(result);
    if (this.unsettled === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Takes one unit, waiting while the budget is spent; false (nothing taken) when the wait was cancelled for a stop. */
  private async awaitQuota(): Promise<boolean> {
    const { quota, clock, observer } = this.options;
    while (!quota.tryTake()) {
      if (this.stopping) return false;
      if (!this.quotaBlocked) {
        this.quotaBlocked = true;
        this.blockedChanged();
      }
      const ms = quota.msUntilAvailable();
      // A wait for a reservation on its way is no exhaustion: only an empty budget is reported.
      if (!this.exhaustion && quota.remaining() === 0) {
        this.exhaustion = { budget: quota.name, since: clock.now() };
        observer?.quotaExhausted?.({ budget: quota.name, refillInMs: ms });
      }
      await new Promise<void>((resolve) => {
        const end = () => {
          cancel();
          this.retryTimers.delete(cancel);
          this.quotaWaits.delete(end);
          resolve();
        };
        const cancel = clock.schedule(ms, end);
        this.retryTimers.add(cancel);
        this.quotaWaits.add(end);
      });
    }
    if (this.quotaBlocked) {
      this.quotaBlocked = false;
      this.blockedChanged();
    }
    if (this.exhaustion) {
      const { budget, since } = this.exhaustion;
      this.exhaustion = undefined;
      observer?.quotaRestored?.({ budget, waitedMs: clock.now() - since });
    }
    return true;
  }
}
