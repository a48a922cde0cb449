/**
 * The lane scheduler: one lane per profile, keeping its updates in submit order with one thing in
 * flight per profile across every route. Updates that queue behind a busy lane are merged (later
 * value wins per attribute) and the merged job settles every update it covers; runs whose claim
 * ended are cancelled before anything of theirs is sent. The route decision picks the route per
 * job; the route sends it (single requests, or a row of a bulk batch) and settles it back here.
 */
import { identityKey, type ProfileUpdate } from '../profile.js';
import type { BudgetWaitsObserver } from './budget-waits.js';
import type { BulkRoute } from './bulk-route.js';
import type { Claim, Job, RouteHost } from './route.js';
import type { RoutePolicy } from './route-policy.js';
import type { SingleRoute, SingleRouteObserver } from './single-route.js';
import type { UpdateResult } from './send-result.js';

export type { Claim } from './route.js';

/** Hooks for metrics and logs, of the lanes and their routes; every member optional. */
export interface LanesObserver extends SingleRouteObserver, BudgetWaitsObserver {
  coalesced?(): void;
}

export interface LanesOptions {
  /** The default route: every update the bulk route does not take. */
  single: SingleRoute<Lane>;
  /** The bulk route and when to take it; without it every update goes by single requests. */
  bulk?: { route: BulkRoute<Lane>; policy: RoutePolicy };
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

/** Work queued for a profile while its previous job is still on its way, in runs by claim. */
interface Pending {
  identity: ProfileUpdate['identity'];
  runs: Run[];
}

/** A lane's job on its way, with the updates it settles. */
interface Active extends Job {
  settles: Settle[];
}

/** One profile's lane. */
export interface Lane {
  readonly key: string;
  active?: Active;
  pending?: Pending;
}

export class Lanes implements RouteHost<Lane> {
  private readonly lanes = new Map<string, Lane>();
  private unsettled = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly blockedListeners: Array<() => void> = [];

  constructor(private readonly options: LanesOptions) {
    options.single.attach(this);
    options.bulk?.route.attach(this);
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

  /** True while sending waits: the quota is spent or an endpoint a route needs is down. Fetching should pause. */
  get blocked(): boolean {
    return this.options.single.blocked || this.options.bulk?.route.blocked === true;
  }

  /** Sends what waits to be batched: nothing more will come soon (the pipeline is full or its input ended). */
  flush(): void {
    this.options.bulk?.route.flush();
  }

  /** Calls `listener` whenever `blocked` may have changed, so that fetching resumes without polling. */
  onBlockedChange(listener: () => void): void {
    this.blockedListeners.push(listener);
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
    this.options.single.cancelWaits();
  }

  /** Cancels every timer; unsettled updates stay unsettled (their offsets are not committed). */
  stop(): void {
    this.options.bulk?.route.stop();
    this.options.single.stop();
  }

  blockedChanged(): void {
    for (const listener of this.blockedListeners) listener();
  }

  take(lane: Lane): Job | undefined {
    const pending = lane.pending;
    if (!pending) return undefined;
    lane.pending = undefined;
    const live = pending.runs.filter((r) => r.claim?.owned !== false);
    if (live.length < pending.runs.length) {
      this.settleAll(
        pending.runs.filter((r) => !live.includes(r)).flatMap((r) => r.settles),
        { status: 'cancelled' },
      );
    }
    if (live.length === 0) {
      this.afterLane(lane);
      return undefined;
    }
    const attributes = live.length === 1 ? (live[0] as Run).attributes : Object.assign({}, ...live.map((r) => r.attributes));
    const settles = live.length === 1 ? (live[0] as Run).settles : live.flatMap((r) => r.settles);
    lane.active = { identity: pending.identity, attributes, settles, claims: live.map((r) => r.claim) };
    return lane.active;
  }

  finished(lane: Lane, result: UpdateResult): void {
    const active = lane.active;
    lane.active = undefined;
    if (active) this.settleAll(active.settles, result);
    this.afterLane(lane);
  }

  abandon(lane: Lane): void {
    const pending = lane.pending;
    lane.pending = undefined;
    if (pending) this.settleAll(pending.runs.flatMap((r) => r.settles), { status: 'cancelled' });
    this.finished(lane, { status: 'cancelled' });
  }

  reached(lane: Lane): void {
    // An mbox call ends Target's override of earlier batches for this profile.
    if (lane.key.startsWith(THIRD_PARTY_PREFIX)) this.options.bulk?.route.forget(lane.key.slice(THIRD_PARTY_PREFIX.length));
  }

  /**
   * Hands the lane's queued updates to a route. Single requests are merged only once a
   * concurrency slot is free; a bulk row takes no slot (it waits for its batch, not for an
   * answer), so it is merged at once, and goes by single update when the bulk route cannot carry it.
   */
  private schedule(lane: Lane): void {
    const bulk = this.options.bulk;
    if (!bulk?.policy.bulk) return this.options.single.sendQueued(lane);
    const job = this.take(lane);
    if (!job) return;
    if (bulk.route.send(lane, job)) this.options.observer?.routed?.('bulk', lane.key);
    else this.options.single.send(lane, job);
  }

  private afterLane(lane: Lane): void {
    if (lane.active) return;
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
}
