/**
 * One endpoint's outage gate: its circuit breaker, the senders held while it is open, the one
 * probe let through at a time, and the outage budget. Every route to the endpoint goes through
 * the endpoint's gate, and so does the decode loop while the schema registry is down.
 *
 * - Opens after the breaker's threshold of consecutive failures; senders then `hold` until they
 *   are the probe (one at a time, spaced by the probe policy and any Retry-After) or the endpoint
 *   answers again, which resumes every held sender, oldest first.
 * - Once the endpoint has been down `outageBudgetMs` the gate reports `budgetExhausted` (once):
 *   whoever runs the process ends it with offsets uncommitted. An outage is never a dead letter.
 */
import type { Clock } from '../clock.js';
import { OutageBudgetError } from '../errors.js';
import type { CircuitBreaker } from './circuit-breaker.js';

/** Why a held sender goes on: it is the probe, the endpoint answered again, or the wait was cancelled for a stop. */
export type GateResume = 'probe' | 'closed' | 'cancelled';

export interface OutageGateOptions {
  /** Tells the outage from a bad request; its observer reports openings, failed probes and closings. */
  breaker: CircuitBreaker;
  /** The endpoint as the budget's error names it, e.g. `Target` or `the schema registry`. */
  endpoint: string;
  /** How long the endpoint may stay down before the run gives up; unbounded when absent. */
  outageBudgetMs?: number;
  clock: Clock;
}

export class OutageGate {
  private readonly held = new Set<(resume: GateResume) => void>();
  /** Timed waits (see sleep): each ends early once the budget is spent or the gate stops. */
  private readonly sleepers = new Set<() => void>();
  private probeOut = false;
  private cancelProbeTimer: (() => void) | undefined;
  private cancelBudgetTimer: (() => void) | undefined;
  private exhausted = false;
  private stopped = false;
  private readonly changeListeners: Array<() => void> = [];
  private readonly exhaustedListeners: Array<(error: OutageBudgetError) => void> = [];

  constructor(private readonly options: OutageGateOptions) {}

  /** True while the endpoint is down: only the probe may be sent. */
  get isOpen(): boolean {
    return this.options.breaker.isOpen;
  }

  /** Successes so far: a failure after this number moved on is the request's own, not the endpoint's. */
  get successes(): number {
    return this.options.breaker.successes;
  }

  /** True once the endpoint stayed down longer than the outage budget. */
  get budgetExhausted(): boolean {
    return this.exhausted;
  }

  /** Calls `listener` when the gate opens or closes. */
  onChange(listener: () => void): void {
    this.changeListeners.push(listener);
  }

  /** Calls `listener` once the outage budget is spent: the run must end without committing past it. */
  onBudgetExhausted(listener: (error: OutageBudgetError) => void): void {
    this.exhaustedListeners.push(listener);
  }

  /** The endpoint answered: closes the gate and resumes every held sender. */
  recordSuccess(): void {
    const wasOpen = this.isOpen;
    this.probeOut = false;
    this.options.breaker.recordSuccess();
    if (!wasOpen) return;
    this.cancelTimers();
    this.changed();
    this.release('closed');
  }

  /** A request failed for the endpoint; `probe` says whether it was the probe this gate let through. */
  recordFailure(cause: unknown, probe: boolean, retryAfterMs?: number): void {
    const wasOpen = this.isOpen;
    if (probe) this.probeOut = false;
    this.options.breaker.recordFailure(cause, probe, retryAfterMs);
    if (!wasOpen && this.isOpen) {
      this.startBudget();
      this.changed();
    }
    if (this.isOpen && this.held.size > 0) this.scheduleProbe();
  }

  /** Milliseconds until a probe may go out: 0 when due, undefined when closed or a probe is out. */
  probeDueInMs(): number | undefined {
    return this.options.breaker.probeDueInMs();
  }

  /** Claims the probe slot for a sender that waited on its own; true when it may send now. */
  startProbe(): boolean {
    return this.options.breaker.startProbe();
  }

  /**
   * Holds a sender while the gate is open: `resume` is called once, when it is the probe, when the
   * endpoint answered again, or (with `cancelled`) when the gate stops. Called at once when stopped.
   */
  hold(resume: (why: GateResume) => void): void {
    if (this.stopped) return resume('cancelled');
    if (!this.isOpen) return resume('closed');
    this.held.add(resume);
    if (!this.cancelProbeTimer && !this.probeOut) this.scheduleProbe();
  }

  /** Resolves after `ms`, or as soon as the outage budget is spent or the gate stops: for a sender that spaces its own retries. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped || this.exhausted) return resolve();
      const end = () => {
        cancel();
        this.sleepers.delete(end);
        resolve();
      };
      const cancel = this.options.clock.schedule(ms, end);
      this.sleepers.add(end);
    });
  }

  /** The probe had nothing to send after all: the slot goes to the next held sender. */
  withdrawProbe(): void {
    this.probeOut = false;
    this.options.breaker.cancelProbe();
    if (this.held.size > 0) this.scheduleProbe();
  }

  /** For a stop: no more probes nor budget; held senders resume `cancelled`. */
  stop(): void {
    this.stopped = true;
    this.cancelTimers();
    this.release('cancelled');
    this.wake();
  }

  private wake(): void {
    for (const end of [...this.sleepers]) end();
  }

  private release(why: GateResume): void {
    const held = [...this.held];
    this.held.clear();
    for (const resume of held) resume(why);
  }

  private scheduleProbe(): void {
    this.cancelProbeTimer?.();
    this.cancelProbeTimer = undefined;
    if (this.stopped) return;
    const dueInMs = this.options.breaker.probeDueInMs();
    if (dueInMs === undefined) return;
    this.cancelProbeTimer = this.options.clock.schedule(dueInMs, () => {
      this.cancelProbeTimer = undefined;
      this.probe();
    });
  }

  /** Lets the longest-held sender through as the probe. */
  private probe(): void {
    const resume = this.held.values().next().value;
    if (!resume) return; // nothing to send; the next sender held schedules the probe
    if (!this.options.breaker.startProbe()) return this.scheduleProbe();
    this.held.delete(resume);
    this.probeOut = true;
    resume('probe');
  }

  private startBudget(): void {
    const budget = this.options.outageBudgetMs;
    if (budget === undefined || this.stopped) return;
    this.cancelBudgetTimer = this.options.clock.schedule(budget, () => {
      this.cancelBudgetTimer = undefined;
      if (!this.isOpen || this.exhausted) return;
      this.exhausted = true;
      const error = new OutageBudgetError(
        `${this.options.endpoint} has been unreachable for longer than the outage budget (delivery.outage_budget_ms: ${budget})`,
      );
      for (const listener of this.exhaustedListeners) listener(error);
      this.wake();
    });
  }

  private cancelTimers(): void {
    this.cancelProbeTimer?.();
    this.cancelProbeTimer = undefined;
    this.cancelBudgetTimer?.();
    this.cancelBudgetTimer = undefined;
  }

  private changed(): void {
    for (const listener of this.changeListeners) listener();
  }
}
