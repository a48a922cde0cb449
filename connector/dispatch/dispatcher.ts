import pLimit, { type LimitFunction } from 'p-limit';
import { TargetError, type ConnectorError } from '../errors.js';
import { identityKey, type ProfileUpdate, type TargetRequest } from '../profile.js';
import { backoffDelay } from './backoff.js';
import type { RollingQuota } from './rolling-quota.js';

/** How one submitted update ended. */
/**
 * How one submitted update ended. `cancelled`: its submitter declared it no longer live (its
 * partition was handed to another member) before it was sent, so it was dropped unsent.
 */
export type UpdateResult =
  | { status: 'delivered' }
  | { status: 'failed'; error: unknown; attempts: number }
  | { status: 'cancelled' };

/** Hooks for metrics; every member optional. */
export interface DispatchObserver {
  requestStarted?(request: TargetRequest): void;
  requestFinished?(request: TargetRequest, outcome: { status?: number; error?: unknown; durationMs: number }): void;
  retryScheduled?(error: unknown, delayMs: number): void;
  coalesced?(): void;
  quotaRemaining?(remaining: number): void;
}

export interface DispatcherOptions {
  concurrency: number;
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  quota: RollingQuota;
  buildRequests(update: ProfileUpdate): TargetRequest[];
  /** Sends one request; resolves on success, rejects with a ConnectorError carrying `retryable`. */
  send(request: TargetRequest): Promise<unknown>;
  random?: () => number;
  observer?: DispatchObserver;
}

type Settle = (result: UpdateResult) => void;

/** One submitted update waiting in its lane. */
interface Entry {
  attributes: Record<string, string>;
  settle: Settle;
  live?: () => boolean;
}

/** Work queued for a profile while its previous request is still being delivered. */
interface Pending {
  identity: ProfileUpdate['identity'];
  entries: Entry[];
}

/** The request(s) of one (possibly merged) update, sent one after another. */
interface Active {
  requests: TargetRequest[];
  next: number;
  attempts: number;
  settles: Settle[];
  lives: Array<(() => boolean) | undefined>;
}

interface Lane {
  key: string;
  active?: Active;
  pending?: Pending;
}

/**
 * Delivers profile updates to Target. One lane per profile keeps updates in submit order with
 * at most one request in flight per profile; updates that queue behind a busy lane are merged
 * (later value wins per attribute) and the merged request settles every update it covers.
 * Lanes share a p-limit pool of `concurrency` slots and the rolling quota; retryable failures
 * are retried with jittered backoff without holding a slot.
 */
export class Dispatcher {
  private readonly lanes = new Map<string, Lane>();
  private readonly limit: LimitFunction;
  private readonly random: () => number;
  private unsettled = 0;
  private idleWaiters: Array<() => void> = [];
  private quotaBlocked = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: DispatcherOptions) {
    this.limit = pLimit(options.concurrency);
    this.random = options.random ?? Math.random;
  }

  /**
   * Queues an update; `settle` is called exactly once when it is delivered, has failed for good,
   * or — if `live` turned false before it was sent — was cancelled.
   */
  submit(update: ProfileUpdate, settle: Settle, live?: () => boolean): void {
    this.unsettled++;
    const key = identityKey(update.identity);
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { key };
      this.lanes.set(key, lane);
    }
    const entry: Entry = { attributes: update.attributes, settle, live };
    if (lane.pending) {
      lane.pending.entries.push(entry);
      this.options.observer?.coalesced?.();
      return;
    }
    lane.pending = { identity: update.identity, entries: [entry] };
    if (!lane.active) this.schedule(lane);
  }

  /** True while sending waits for quota to return. */
  get waitingForQuota(): boolean {
    return this.quotaBlocked;
  }

  /** Resolves once every submitted update has settled. */
  whenIdle(): Promise<void> {
    if (this.unsettled === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Cancels retry timers; unsettled updates stay unsettled (their offsets are not committed). */
  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.limit.clearQueue();
  }

  private schedule(lane: Lane): void {
    void this.limit(() => this.sendNext(lane));
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private async sendNext(lane: Lane): Promise<void> {
    const active = lane.active ?? this.activate(lane);
    if (!active) return;
    await this.awaitQuota();
    const request = active.requests[active.next] as TargetRequest;
    this.options.observer?.requestStarted?.(request);
    const started = performance.now();
    try {
      await this.options.send(request).finally(() => this.options.quota.finished());
      this.options.observer?.requestFinished?.(request, { status: 200, durationMs: performance.now() - started });
      active.next++;
      active.attempts = 0;
      if (active.next < active.requests.length) {
        this.schedule(lane);
        return;
      }
      this.finish(lane, active, { status: 'delivered' });
    } catch (error) {
      const status = error instanceof TargetError ? error.status : undefined;
      this.options.observer?.requestFinished?.(request, { status, error, durationMs: performance.now() - started });
      active.attempts++;
      if (this.dropDead(active)) {
        this.finish(lane, active, { status: 'cancelled' });
        return;
      }
      const retryable = (error as ConnectorError | undefined)?.retryable === true;
      if (retryable && active.attempts < this.options.maxAttempts) {
        const retryAfter = error instanceof TargetError ? error.retryAfterMs : undefined;
        const delay = backoffDelay(
          active.attempts,
          { initialMs: this.options.initialBackoffMs, maxMs: this.options.maxBackoffMs },
          this.random,
          retryAfter,
        );
        this.options.observer?.retryScheduled?.(error, delay);
        this.later(delay, () => this.schedule(lane));
        return;
      }
      this.finish(lane, active, { status: 'failed', error, attempts: active.attempts });
    }
  }

  /**
   * Turns the lane's pending updates into requests, merged in submit order (later value wins).
   * Entries no longer live are cancelled here, before anything of theirs is sent.
   */
  private activate(lane: Lane): Active | undefined {
    const pending = lane.pending;
    if (!pending) return undefined;
    lane.pending = undefined;
    const live = pending.entries.filter((e) => e.live?.() !== false);
    this.settleAll(
      pending.entries.filter((e) => !live.includes(e)).map((e) => e.settle),
      { status: 'cancelled' },
    );
    if (live.length === 0) {
      this.afterLane(lane);
      return undefined;
    }
    const attributes: Record<string, string> = {};
    for (const e of live) Object.assign(attributes, e.attributes);
    const settles = live.map((e) => e.settle);
    try {
      const requests = this.options.buildRequests({ identity: pending.identity, attributes });
      if (requests.length === 0) {
        this.settleAll(settles, { status: 'delivered' });
        this.afterLane(lane);
        return undefined;
      }
      lane.active = { requests, next: 0, attempts: 0, settles, lives: live.map((e) => e.live) };
      return lane.active;
    } catch (error) {
      this.settleAll(settles, { status: 'failed', error, attempts: 0 });
      this.afterLane(lane);
      return undefined;
    }
  }

  /** True when no update behind a failed request is live any more: retrying would serve nobody. */
  private dropDead(active: Active): boolean {
    return active.lives.every((live) => live?.() === false);
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

  private async awaitQuota(): Promise<void> {
    while (!this.options.quota.tryTake()) {
      this.quotaBlocked = true;
      const ms = this.options.quota.msUntilAvailable();
      await new Promise<void>((resolve) => this.later(ms, resolve));
    }
    this.quotaBlocked = false;
    this.options.observer?.quotaRemaining?.(this.options.quota.remaining());
  }
}
