/**
 * Waits for a budget (the request quota) before each send: takes a unit at once when one is
 * left (no promise on the hot path), otherwise waits until the budget refills, reporting when it
 * ran out and when it gave again. While it waits sending is blocked and fetching should pause;
 * nothing is dropped for quota. A stop cancels every wait with no unit taken.
 */
import type { Clock } from '../clock.js';
import type { Budget } from './budget.js';

/** What the waits report, for logs; every member optional. */
export interface BudgetWaitsObserver {
  /** Sending waits: `budget` (Budget.name) ran out; its next unit is due in `refillInMs`. */
  quotaExhausted?(info: { budget: string; refillInMs: number }): void;
  /** The budget that ran out gave a unit again after `waitedMs`: sending resumed. */
  quotaRestored?(info: { budget: string; waitedMs: number }): void;
}

export class BudgetWaits {
  private waiting = false;
  /** The budget that ran out and since when, until it gives a unit again. */
  private exhaustion: { budget: string; since: number } | undefined;
  /** Each wait: what ends it at once with no unit taken (see cancel), and what cancels its timer (see stop). */
  private readonly waits = new Map<() => void, () => void>();
  private cancelled = false;
  private readonly listeners: Array<() => void> = [];

  constructor(
    readonly budget: Budget,
    private readonly clock: Clock,
    private readonly observer?: BudgetWaitsObserver,
  ) {}

  /** True while a send waits for the budget: fetching should pause. */
  get blocked(): boolean {
    return this.waiting;
  }

  /** Calls `listener` whenever `blocked` changes. */
  onBlockedChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Takes one unit now: true when it did; otherwise call `take` to wait for it. */
  tryTake(): boolean {
    if (!this.budget.tryTake()) return false;
    if (this.waiting || this.exhaustion) this.restored();
    return true;
  }

  /** Takes one unit, waiting while the budget is spent; false (nothing taken) when the wait was cancelled for a stop. */
  async take(): Promise<boolean> {
    const { budget, clock, observer } = this;
    while (!budget.tryTake()) {
      if (this.cancelled) return false;
      if (!this.waiting) {
        this.waiting = true;
        this.changed();
      }
      const ms = budget.msUntilAvailable();
      // A wait for a reservation on its way is no exhaustion: only an empty budget is reported.
      if (!this.exhaustion && budget.remaining() === 0) {
        this.exhaustion = { budget: budget.name, since: clock.now() };
        observer?.quotaExhausted?.({ budget: budget.name, refillInMs: ms });
      }
      await new Promise<void>((resolve) => {
        const end = () => {
          cancel();
          this.waits.delete(end);
          resolve();
        };
        const cancel = clock.schedule(ms, end);
        this.waits.set(end, cancel);
      });
    }
    this.restored();
    return true;
  }

  /** Records that a taken unit got its answer (or failed). */
  finished(): void {
    this.budget.finished();
  }

  /** For a stop: every wait ends now with nothing taken, and no new one starts. */
  cancel(): void {
    this.cancelled = true;
    for (const end of [...this.waits.keys()]) end();
  }

  /** Cancels every wait's timer: the sends waiting stay unsettled (their offsets are not committed). */
  stop(): void {
    this.cancelled = true;
    for (const cancel of this.waits.values()) cancel();
    this.waits.clear();
  }

  private restored(): void {
    if (this.waiting) {
      this.waiting = false;
      this.changed();
    }
    if (this.exhaustion) {
      const { budget, since } = this.exhaustion;
      this.exhaustion = undefined;
      this.observer?.quotaRestored?.({ budget, waitedMs: this.clock.now() - since });
    }
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
