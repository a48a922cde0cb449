/**
 * One budget for the whole fleet: every replica takes from the same rolling window in a shared
 * store (Redis), so together they never exceed the account's quota, wherever the load is.
 *
 * Taking stays synchronous: units are reserved from the store in small batches (about a quarter
 * second of this replica's demand) into a local pool, and the lanes take from the pool. The store
 * counts a unit from its reservation until a window after the latest moment it can reach Target
 * (`holdMs`: its time in the pool plus a request's timeout), and the pool drops units older than
 * `poolTtlMs`; so a replica that dies with units in its pool wastes them for one window at most,
 * and the fleet never runs over.
 *
 * When the store cannot be reached, the replica falls back to its assignment share
 * (AssignmentShare), never exceeding it; and until a window has passed it also leaves room for
 * what the fleet had already spent when the store was last heard from: its fallback sends stay
 * within its share of what was left then. It tries the store again every `reconnectMs`, busy or
 * idle; once the store answers, the units taken meanwhile are recorded there first, and for a
 * grace period (a retry interval and a hold) it still keeps to its share, the time the other
 * replicas need to record theirs: until then the store's count lacks them. A store that lost its window
 * (restarted without persistence, flushed) shows a new epoch: then every replica records its own
 * units still in the window again, and the fleet's count is whole once more.
 */
import type { Clock } from '../clock.js';
import type { AssignmentShare } from './assignment-share.js';
import type { Budget } from './budget.js';
import { RollingQuota } from './rolling-quota.js';

/** The shared window, as the fleet budget needs it (a Redis script in production). */
export interface SharedWindowStore {
  /**
   * Takes between `atLeast` and `want` units from the window (at most `limit` in any `windowMs`),
   * or none when fewer than `atLeast` fit; resolves with the units granted, the window's total
   * after, how long until its oldest units leave it, and the window's epoch (it changes when the
   * store lost the window). Rejects when the store cannot be reached.
   */
  reserve(want: number, atLeast: number, limit: number, windowMs: number): Promise<{ granted: number; used: number; retryInMs: number; epoch: string }>;
  /** Adds `units` the store does not know of (taken while it could not be reached); resolves with the window's epoch. */
  record(units: number, windowMs: number): Promise<{ epoch: string }>;
}

/** What the budget reports, for logs and metrics. */
export interface FleetBudgetObserver {
  /** The store became unreachable for the budget named `budget` (`on`), or answers again. */
  fallback?(on: boolean, budget: string, cause?: unknown): void;
  /** The fleet's total in the window, as the store last reported it. */
  fleetUsed?(used: number): void;
}

export interface FleetBudgetOptions {
  /** What the budget counts, for logs: `requests`, `bulk rows`. */
  name: string;
  store: SharedWindowStore;
  /** The account's quota: what the whole fleet may take in any window. */
  limit: number;
  windowMs: number;
  /** How long after its reservation a unit may still reach Target; the store counts it that much longer. */
  holdMs: number;
  /** Reserved units not taken within this long are dropped (must be below `holdMs`). */
  poolTtlMs: number;
  /** This replica's share, for when the store cannot be reached. */
  share: AssignmentShare;
  clock: Clock;
  /** Most units one reservation takes beyond what a single take needs. */
  maxBatch: number;
  /** How often to try the store again while falling back. */
  reconnectMs: number;
  observer?: FleetBudgetObserver;
}

/** How long to look again while a reservation is on its way (a round trip to the store). */
const RESERVING_MS = 5;

export class FleetBudget implements Budget {
  /** Reserved units not yet taken, oldest first, with when each lot must be used by. */
  private readonly pool: Array<{ units: number; until: number }> = [];
  private pooled = 0;
  private busy = false;
  private exhaustedUntil = 0;
  private fleetUsed = 0;
  /** This replica's own units in the window, whatever the mode; limited to its share while falling back. */
  private readonly own: RollingQuota;
  private fallbackSince: number | undefined;
  private fallbackTaken = 0;
  /** Units taken while falling back and not yet recorded in the store. */
  private unrecorded = 0;
  /** After reconnecting, the share still bounds this replica until then. */
  private graceUntil = 0;
  private cancelRetry: (() => void) | undefined;
  private stopped = false;
  private epoch: string | undefined;
  private demand = 0;
  private lastDemand = 0;
  private demandSince: number;

  constructor(private readonly options: FleetBudgetOptions) {
    const { share, windowMs, clock } = options;
    this.own = new RollingQuota(
      () => (this.keepsToShare(clock.now()) ? share.limit() : Number.MAX_SAFE_INTEGER),
      windowMs,
      () => clock.now(),
    );
    this.demandSince = clock.now();
  }

  /** The fleet's budget, or this replica's share while it keeps to it. */
  get name(): string {
    const what = this.options.name;
    return this.keepsToShare(this.options.clock.now())
      ? `this replica's share of the ${what} quota (the quota store in Redis is not counting for it now)`
      : `the fleet's ${what} budget in Redis (shared by every replica)`;
  }

  /** True while the store cannot be reached and this replica keeps to its own share. */
  get fallingBack(): boolean {
    return this.fallbackSince !== undefined;
  }

  /** Stops trying the store again (the replica is stopping). */
  stop(): void {
    this.stopped = true;
    this.cancelRetry?.();
  }

  tryTake(n = 1): boolean {
    const now = this.options.clock.now();
    this.countDemand(n, now);
    if (this.keepsToShare(now) && this.own.remaining() < n) return false;
    if (this.takePooled(n, now)) {
      this.own.tryTake(n);
      if (this.pooled < this.batch() / 2) this.refill(0);
      return true;
    }
    if (this.fallbackSince === undefined) {
      this.refill(n - this.pooled);
      return false;
    }
    if (!this.firstWindowAllows(n, now) || !this.own.tryTake(n)) return false;
    this.fallbackTaken += n;
    this.unrecorded += n;
    return true;
  }

  finished(n = 1): void {
    this.own.finished(n);
  }

  msUntilAvailable(n = 1): number {
    const now = this.options.clock.now();
    if (this.fallbackSince !== undefined) {
      if (this.firstWindowAllows(n, now)) {
        const wait = this.own.msUntilAvailable(n);
        if (wait === 0) return 0;
        return Math.min(wait, this.options.reconnectMs);
      }
      return this.options.reconnectMs;
    }
    if (this.keepsToShare(now) && this.own.remaining() < n) return Math.max(1, Math.min(this.own.msUntilAvailable(n), this.graceUntil - now));
    if (this.exhaustedUntil > now) return this.exhaustedUntil - now;
    return RESERVING_MS;
  }

  remaining(): number {
    if (this.fallbackSince !== undefined) return this.own.remaining();
    if (this.keepsToShare(this.options.clock.now())) return Math.min(this.own.remaining(), this.pooled + Math.max(0, this.options.limit - this.fleetUsed));
    return this.pooled + Math.max(0, this.options.limit - this.fleetUsed);
  }

  /** While falling back, and for the grace period after: this replica's share bounds it. */
  private keepsToShare(now: number): boolean {
    return this.fallbackSince !== undefined || now < this.graceUntil;
  }

  /** Takes `n` units from the pool's lots that have not expired; false (taking none) when they hold fewer. */
  private takePooled(n: number, now: number): boolean {
    while (this.pool.length > 0 && (this.pool[0] as { until: number }).until <= now) this.pooled -= (this.pool.shift() as { units: number }).units;
    if (this.pooled < n) return false;
    this.pooled -= n;
    for (let left = n; left > 0;) {
      const lot = this.pool[0] as { units: number };
      const used = Math.min(left, lot.units);
      lot.units -= used;
      left -= used;
      if (lot.units === 0) this.pool.shift();
    }
    return true;
  }

  /** A quarter second of this replica's demand, within the batch bound. */
  private batch(): number {
    return Math.max(1, Math.min(this.options.maxBatch, Math.ceil(Math.max(this.demand, this.lastDemand) / 4)));
  }

  private countDemand(n: number, now: number): void {
    if (now - this.demandSince >= 1000) {
      this.lastDemand = this.demand;
      this.demand = 0;
      this.demandSince = now;
    }
    this.demand += n;
  }

  /** Reserves a batch, and at least `need` units (all or none) for a take the pool cannot serve. */
  private refill(need: number): void {
    const { store, limit, windowMs, poolTtlMs, clock, observer } = this.options;
    const now = clock.now();
    if (this.busy || this.exhaustedUntil > now) return;
    this.busy = true;
    const atLeast = Math.max(1, need);
    store.reserve(Math.max(atLeast, this.batch()), atLeast, limit, windowMs).then(
      ({ granted, used, retryInMs, epoch }) => {
        this.busy = false;
        if (this.storeWasReset(epoch)) {
          // What it had reserved before is gone from the store: drop it, and count what was sent.
          this.pool.length = 0;
          this.pooled = 0;
          this.recordMissing(this.own.inWindow());
        }
        if (granted > 0) {
          // Counted from when it was asked for: the store counted it no earlier.
          this.pool.push({ units: granted, until: now + poolTtlMs });
          this.pooled += granted;
        } else this.exhaustedUntil = clock.now() + Math.max(1, retryInMs);
        this.fleetUsed = used;
        observer?.fleetUsed?.(used);
      },
      (cause: unknown) => {
        this.busy = false;
        this.startFallback(cause);
      },
    );
  }

  /** True when the store's window is not the one seen last (the first one seen counts as seen). */
  private storeWasReset(epoch: string): boolean {
    const reset = this.epoch !== undefined && epoch !== this.epoch;
    this.epoch = epoch;
    return reset;
  }

  /** Records `units` the store does not know of; kept for the next reconnect when it fails. */
  private recordMissing(units: number): void {
    if (units <= 0) return;
    this.options.store.record(units, this.options.windowMs).catch(() => (this.unrecorded += units));
  }

  private startFallback(cause: unknown): void {
    if (this.fallbackSince !== undefined || this.stopped) return;
    this.fallbackSince = this.options.clock.now();
    this.fallbackTaken = 0;
    this.scheduleRetry();
    this.options.observer?.fallback?.(true, this.options.name, cause);
  }

  /** Tries the store again in `reconnectMs`, and so on while it cannot be reached. */
  private scheduleRetry(): void {
    this.cancelRetry = this.options.clock.schedule(this.options.reconnectMs, () => {
      this.cancelRetry = undefined;
      if (this.fallbackSince !== undefined && !this.stopped) this.reconnect();
    });
  }

  /**
   * While falling back, until what the fleet had reserved when the store was last heard from has
   * left every window: within this replica's share of what was left then (less a margin for the
   * reservations other replicas made after that).
   */
  private firstWindowAllows(n: number, now: number): boolean {
    const { share, limit, windowMs, holdMs, maxBatch } = this.options;
    if (now - (this.fallbackSince as number) >= windowMs + holdMs) return true;
    const left = Math.max(0, limit - this.fleetUsed - 2 * maxBatch);
    return this.fallbackTaken + n <= Math.floor((share.share * left) / limit);
  }

  /** Records what was taken while falling back, then goes back to reserving (after a grace period at its share). */
  private reconnect(): void {
    if (this.busy) {
      this.scheduleRetry();
      return;
    }
    this.busy = true;
    const units = this.unrecorded;
    const { store, windowMs, holdMs, reconnectMs, name, clock, observer } = this.options;
    store.record(units, windowMs).then(
      ({ epoch }) => {
        this.busy = false;
        // Units taken while this call was on its way are recorded too; a store that lost its
        // window also lost every unit this replica sent in it, fallback ones included.
        const late = this.storeWasReset(epoch) ? this.own.inWindow() - units : this.unrecorded - units;
        this.unrecorded = 0;
        this.recordMissing(late);
        this.fallbackSince = undefined;
        // The others find the store within a retry interval and record theirs within a hold.
        this.graceUntil = clock.now() + reconnectMs + holdMs;
        observer?.fallback?.(false, name);
        this.refill(0);
      },
      () => {
        this.busy = false;
        this.scheduleRetry();
      },
    );
  }
}
