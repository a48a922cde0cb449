/**
 * The single route: a lane's merged update becomes Target requests (Single Profile Update API),
 * sent one after another, at most `concurrency` in flight over all lanes, each taking a unit of
 * the request quota first.
 *
 * A failure counts against a request only when the endpoint answered other requests since that
 * request was first sent or last failed: then it is the request's own fault, and it fails for good
 * after `maxAttempts` (at once when not retryable); until then it waits its backoff without
 * holding a slot. Failures with no success between them open the endpoint's outage gate: the
 * lanes are held there, one probe at a time tests the endpoint, and every held lane goes on when
 * it answers. An outage is therefore waited out, never dead-lettered.
 *
 * The realtime route (realtime-route.ts) is this route over the Delivery API's calls, gate and budget.
 */
import pLimit, { type LimitFunction } from 'p-limit';
import type { Clock } from '../clock.js';
import type { ProfileUpdate, TargetRequest } from '../profile.js';
import type { RetryPolicy } from '../retry.js';
import type { BudgetWaits } from './budget-waits.js';
import type { OutageGate } from './outage-gate.js';
import { RetryTimers } from './retry-timers.js';
import { unclaimed, type Job, type LaneRef, type Route, type RouteHost, type RouteName } from './route.js';
import type { SendResult, UpdateResult } from './send-result.js';

/** Hooks for metrics and logs; every member optional. */
export interface SingleRouteObserver {
  requestStarted?(request: TargetRequest): void;
  /** A request got its answer: `error` is absent on success. */
  requestFinished?(request: TargetRequest, outcome: { error?: unknown; durationMs: number }): void;
  retryScheduled?(error: unknown, delayMs: number): void;
  /** Profiles whose next request waits for a retry timer or for the endpoint to come back. */
  retryBacklog?(profiles: number): void;
  /** A profile's merged update set off by this route; `profile` is its identity key. */
  routed?(route: RouteName, profile: string): void;
}

/** The routes that send a lane's update as requests of their own, one after another: the single and the realtime route. */
export type RequestRouteName = Exclude<RouteName, 'bulk'>;

export interface SingleRouteOptions<R extends TargetRequest = TargetRequest> {
  /** The route's name in metrics and errors; `single` unless given. */
  name?: RequestRouteName;
  concurrency: number;
  /** Backoff between attempts; its `maxAttempts` bounds the failures that are a request's own fault. */
  retry: RetryPolicy;
  /** The outage gate of the single-update endpoint. */
  gate: OutageGate;
  /** The request quota, waited for before each request. */
  quota: BudgetWaits;
  clock: Clock;
  buildRequests(update: ProfileUpdate): R[];
  /** Sends one request and says what became of it; never rejects. */
  send(request: R): Promise<SendResult>;
  observer?: SingleRouteObserver;
}

/** The request(s) of one lane's job, sent one after another. */
interface Sending<L, R> {
  lane: L;
  job: Job;
  requests: R[];
  next: number;
  /** Failures that were this request's own fault (the endpoint served others meanwhile). */
  attempts: number;
  /** Every failure of the current request, own or not: spaces the retries. */
  failures: number;
  /** The gate's success count when the current request was first sent or last failed. */
  healthMark: number;
}

const DELIVERED: UpdateResult = { status: 'delivered' };
const CANCELLED: UpdateResult = { status: 'cancelled' };

export class SingleRoute<L extends LaneRef, R extends TargetRequest = TargetRequest> implements Route<L> {
  readonly name: RequestRouteName;
  private host: RouteHost<L> | undefined;
  private readonly limit: LimitFunction;
  private readonly retries: RetryTimers<Sending<L, R>>;
  private held = 0;
  private backlog = 0;
  /** Set by cancelWaits: nothing more waits for quota, a retry or the endpoint. */
  private stopping = false;
  /** Set by stop: what waits stays unsettled. */
  private stopped = false;

  constructor(private readonly options: SingleRouteOptions<R>) {
    this.name = options.name ?? 'single';
    this.limit = pLimit(options.concurrency);
    this.retries = new RetryTimers(options.clock);
  }

  get gate(): OutageGate {
    return this.options.gate;
  }

  get blocked(): boolean {
    return this.options.gate.isOpen || this.options.quota.blocked;
  }

  attach(host: RouteHost<L>): void {
    this.host = host;
    this.options.gate.onChange(() => host.blockedChanged());
    this.options.quota.onBlockedChange(() => host.blockedChanged());
  }

  /** Sends the lane's queued updates once a slot is free, merged only then: what queues while it waits goes along. */
  sendQueued(lane: L): void {
    void this.limit(() => this.start(lane));
  }

  send(lane: L, job: Job): boolean {
    const sending = this.begin(lane, job);
    if (sending) this.queue(sending, false);
    return true;
  }

  /**
   * For a stop: jobs waiting for quota, a retry or the endpoint settle `cancelled` (left
   * unacknowledged, so read again by the next run) with what queues behind them; requests in
   * flight finish, and what follows them is sent only while no wait is needed.
   */
  cancelWaits(): void {
    this.stopping = true;
    this.options.quota.cancel();
    const waiting = this.retries.cancelAll();
    this.options.gate.stop();
    this.backlogChanged();
    for (const sending of waiting) this.hostOf().abandon(sending.lane);
  }

  flush(): void {}

  stop(): void {
    this.stopped = true;
    this.retries.cancelAll();
    this.options.gate.stop();
    this.options.quota.stop();
    this.limit.clearQueue();
  }

  private hostOf(): RouteHost<L> {
    if (!this.host) throw new Error(`the ${this.name} route serves no lanes yet (attach it first)`);
    return this.host;
  }

  private start(lane: L): Promise<void> | undefined {
    const job = this.hostOf().take(lane);
    const sending = job && this.begin(lane, job);
    return sending && this.sendRequest(sending, false);
  }

  /** Turns the job into requests; undefined (the job settled) when there is nothing to send. */
  private begin(lane: L, job: Job): Sending<L, R> | undefined {
    let requests: R[];
    try {
      requests = this.options.buildRequests(job);
    } catch (error) {
      this.hostOf().finished(lane, { status: 'failed', error, attempts: 0 });
      return undefined;
    }
    if (requests.length === 0) {
      this.hostOf().finished(lane, DELIVERED);
      return undefined;
    }
    this.options.observer?.routed?.(this.name, lane.key);
    return { lane, job, requests, next: 0, attempts: 0, failures: 0, healthMark: 0 };
  }

  private queue(sending: Sending<L, R>, probe: boolean): void {
    void this.limit(() => this.sendRequest(sending, probe));
  }

  private async sendRequest(sending: Sending<L, R>, probe: boolean): Promise<void> {
    const { gate, quota, observer, clock } = this.options;
    const host = this.hostOf();
    if (unclaimed(sending.job)) {
      if (probe) gate.withdrawProbe();
      return host.finished(sending.lane, CANCELLED);
    }
    if (this.stopping && (gate.isOpen || probe)) {
      if (probe) gate.withdrawProbe();
      return host.abandon(sending.lane);
    }
    if (gate.isOpen && !probe) return this.hold(sending);
    if (!quota.tryTake() && !(await quota.take())) {
      if (probe) gate.withdrawProbe();
      return host.abandon(sending.lane);
    }
    if (unclaimed(sending.job)) {
      // Its partition moved while it waited for quota: the new owner sends these events, newer ones after them.
      quota.finished();
      if (probe) gate.withdrawProbe();
      return host.finished(sending.lane, CANCELLED);
    }
    const request = sending.requests[sending.next] as R;
    if (sending.failures === 0) sending.healthMark = gate.successes;
    observer?.requestStarted?.(request);
    const started = clock.now();
    const result = await this.options.send(request);
    quota.finished();
    if (result.kind !== 'acknowledged') {
      observer?.requestFinished?.(request, { error: result.error, durationMs: clock.now() - started });
      return this.failed(sending, result, probe);
    }
    observer?.requestFinished?.(request, { durationMs: clock.now() - started });
    host.reached(sending.lane);
    gate.recordSuccess();
    sending.next++;
    sending.attempts = 0;
    sending.failures = 0;
    if (sending.next < sending.requests.length) this.queue(sending, false);
    else host.finished(sending.lane, DELIVERED);
  }

  /** Decides what a failed request does next: retry later, wait for the endpoint, or fail for good. */
  private failed(sending: Sending<L, R>, result: Exclude<SendResult, { kind: 'acknowledged' }>, probe: boolean): void {
    const { gate, retry, observer } = this.options;
    const { error } = result;
    const retryAfterMs = result.kind === 'retryable' ? result.retryAfterMs : undefined;
    const own = gate.successes > sending.healthMark;
    sending.healthMark = gate.successes;
    gate.recordFailure(error, probe, retryAfterMs);
    sending.failures++;
    if (own) sending.attempts++;
    if (unclaimed(sending.job)) {
      this.hostOf().finished(sending.lane, CANCELLED);
    } else if (own && (result.kind === 'permanent' || retry.exhausted(sending.attempts))) {
      this.hostOf().finished(sending.lane, { status: 'failed', error, attempts: sending.attempts });
    } else if (gate.isOpen) {
      this.hold(sending);
    } else {
      const delay = retry.delay(sending.failures, retryAfterMs);
      observer?.retryScheduled?.(error, delay);
      this.retryLater(sending, delay);
    }
  }

  private retryLater(sending: Sending<L, R>, delayMs: number): void {
    if (this.stopping) return this.hostOf().abandon(sending.lane);
    this.retries.schedule(sending, delayMs, (due) => {
      this.backlogChanged();
      this.queue(due, false);
    });
    this.backlogChanged();
  }

  /** Holds the lane at the gate until the endpoint answers again, or it is picked as the probe. */
  private hold(sending: Sending<L, R>): void {
    if (this.stopping) return this.hostOf().abandon(sending.lane);
    this.held++;
    this.backlogChanged();
    this.options.gate.hold((why) => {
      if (this.stopped) return;
      this.held--;
      this.backlogChanged();
      if (why === 'cancelled') this.hostOf().abandon(sending.lane);
      else this.queue(sending, why === 'probe');
    });
  }

  private backlogChanged(): void {
    const backlog = this.held + this.retries.size;
    if (backlog === this.backlog) return;
    this.backlog = backlog;
    this.options.observer?.retryBacklog?.(backlog);
  }
}
