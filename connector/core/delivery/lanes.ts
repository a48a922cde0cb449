/**
 * The lane scheduler: one lane per profile, keeping its updates in submit order with one thing in
 * flight per profile across every route. Updates that queue behind a busy lane are merged (later
 * value wins per attribute) and the merged job settles every update it covers; runs whose claim
 * ended are cancelled before anything of theirs is sent. An update's mapping picks its door
 * (routeOf): realtime updates always go by the realtime route, and merge only with realtime
 * updates; single updates go by single requests or bulk as the route decision says. Since a lane
 * sends one job at a time whatever its route, a profile's updates keep their order across routes.
 * The route sends the job (requests, or a row of a bulk batch) and settles it back here.
 */
import { ConnectorError } from '../errors.js';
import { identityKey, routeOf, type ProfileUpdate, type UpdateRoute } from '../profile.js';
import type { BudgetWaitsObserver } from './budget-waits.js';
import type { BulkRoute } from './bulk-route.js';
import type { RealtimeRoute } from './realtime-route.js';
import type { Claim, Job, RouteHost, Settlement } from './route.js';
import type { RoutePolicy } from './route-policy.js';
import type { SingleRoute, SingleRouteObserver } from './single-route.js';
import type { UpdateResult } from './send-result.js';
import { Settlements } from './settlements.js';

export type { Claim, Settlement } from './route.js';

/** Hooks for metrics and logs, of the lanes and their routes; every member optional. */
export interface LanesObserver extends SingleRouteObserver, BudgetWaitsObserver {
  coalesced?(): void;
}

export interface LanesOptions {
  /** The default route: every update the bulk route does not take. */
  single: SingleRoute<Lane>;
  /** The bulk route and when to take it; without it every update goes by single requests. */
  bulk?: { route: BulkRoute<Lane>; policy: RoutePolicy };
  /** The Delivery API door, for updates of mappings with `route: realtime`; absent when no mapping routes there. */
  realtime?: RealtimeRoute<Lane>;
  observer?: LanesObserver;
}

/** Lane keys of thirdPartyId profiles start so (see identityKey). */
const THIRD_PARTY_PREFIX = 'mbox3rdPartyId:';

/**
 * Updates queued under one claim, one after the other, merged as they arrive: a queue of a busy
 * profile's events costs a settlement each, not its attributes.
 */
interface Run {
  /** The door of every update in the run: runs of different routes are never merged. */
  route: UpdateRoute;
  attributes: Record<string, string>;
  /** Whether `attributes` is the run's own copy; the first update's object is merged into only after copying it. */
  copied: boolean;
  settles: Settlements;
  claim?: Claim;
}

/** Work queued for a profile while its previous job is still on its way, in runs by claim. */
interface Pending {
  identity: ProfileUpdate['identity'];
  runs: Run[];
}

/** A lane's job on its way, with the updates it settles. */
interface Active extends Job {
  attributes: Record<string, string>;
  settles: Settlements;
  claims: Array<Claim | undefined>;
  /** Carried by a bulk row: it waits for its batch's report, and so does everything queued behind it. */
  parked?: boolean;
}

/** What a lane's job keeps of its attributes once a bulk row carries them: the route has its own, and a backlog holds many jobs. */
const CARRIED_BY_ROW: Record<string, string> = Object.freeze({});

/** One profile's lane. */
export interface Lane {
  readonly key: string;
  active?: Active;
  pending?: Pending;
}

/** A run of one update; `parked` when it queues behind a bulk row (see Settlements.push). */
function newRun(route: UpdateRoute, update: ProfileUpdate, settlement: Settlement, claim: Claim | undefined, parked: boolean): Run {
  const settles = new Settlements();
  settles.push(settlement, parked);
  return { route, attributes: update.attributes, copied: false, settles, claim };
}

export class Lanes implements RouteHost<Lane> {
  /** Lanes by identity kind, then by identity value: no key string is built for each update. */
  private readonly lanes = new Map<string, Map<string, Lane>>();
  private unsettled = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly blockedListeners: Array<() => void> = [];

  constructor(private readonly options: LanesOptions) {
    options.single.attach(this);
    options.bulk?.route.attach(this);
    options.realtime?.attach(this);
  }

  /**
   * Queues an update; `settlement` is settled exactly once when it is delivered, has failed for good,
   * or — if its claim ended before it was sent — was cancelled.
   */
  submit(update: ProfileUpdate, settlement: Settlement, claim?: Claim): void {
    this.unsettled++;
    const lane = this.laneOf(update.identity);
    const route = routeOf(update);
    // Behind a bulk row, the update waits for the row's batch to report: its event parks.
    const parked = lane.active?.parked === true;
    if (lane.pending) {
      const last = lane.pending.runs[lane.pending.runs.length - 1] as Run;
      if (last.claim === claim && last.route === route) {
        if (!last.copied) {
          last.attributes = { ...last.attributes };
          last.copied = true;
        }
        Object.assign(last.attributes, update.attributes);
        last.settles.push(settlement, parked);
      } else lane.pending.runs.push(newRun(route, update, settlement, claim, parked));
      this.options.observer?.coalesced?.();
      return;
    }
    if (this.folded(lane, update, route, settlement, claim)) return;
    lane.pending = { identity: update.identity, runs: [newRun(route, update, settlement, claim, parked)] };
    if (!lane.active) this.schedule(lane);
  }

  /**
   * True while sending waits: the quota is spent or an endpoint a route needs is down. Fetching
   * should pause. The realtime route's waits do not count: they hold only realtime lanes, and
   * single updates fetched meanwhile still flow (the pipeline's max_pending bounds what waits).
   */
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
    this.options.realtime?.cancelWaits();
  }

  /** Cancels every timer; unsettled updates stay unsettled (their offsets are not committed). */
  stop(): void {
    this.options.bulk?.route.stop();
    this.options.single.stop();
    this.options.realtime?.stop();
  }

  blockedChanged(): void {
    for (const listener of this.blockedListeners) listener();
  }

  /** Takes the lane's leading runs of one route (the first run's): what follows on another route waits its turn. */
  take(lane: Lane): Active | undefined {
    const pending = lane.pending;
    if (!pending) return undefined;
    const route = (pending.runs[0] as Run).route;
    let end = 1;
    while (end < pending.runs.length && (pending.runs[end] as Run).route === route) end++;
    const runs = end === pending.runs.length ? pending.runs : pending.runs.slice(0, end);
    lane.pending = end === pending.runs.length ? undefined : { identity: pending.identity, runs: pending.runs.slice(end) };
    const live = runs.filter((r) => r.claim?.owned !== false);
    for (const run of runs) if (!live.includes(run)) this.settleAll(run.settles, { status: 'cancelled' });
    if (live.length === 0) {
      this.afterLane(lane);
      return undefined;
    }
    const attributes = live.length === 1 ? (live[0] as Run).attributes : Object.assign({}, ...live.map((r) => r.attributes));
    const settles = Settlements.merged(live.map((r) => r.settles));
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
    for (const run of pending?.runs ?? []) this.settleAll(run.settles, { status: 'cancelled' });
    this.finished(lane, { status: 'cancelled' });
  }

  reached(lane: Lane): void {
    // An mbox call ends Target's override of earlier batches for this profile.
    if (lane.key.startsWith(THIRD_PARTY_PREFIX)) this.options.bulk?.route.forget(lane.key.slice(THIRD_PARTY_PREFIX.length));
  }

  /** The profile's lane, made when it has none. */
  private laneOf(identity: ProfileUpdate['identity']): Lane {
    let byValue = this.lanes.get(identity.kind);
    if (!byValue) {
      byValue = new Map();
      this.lanes.set(identity.kind, byValue);
    }
    let lane = byValue.get(identity.value);
    if (!lane) {
      lane = { key: identityKey(identity) };
      byValue.set(identity.value, lane);
    }
    return lane;
  }

  /**
   * Folds the update into the lane's bulk row while that row's batch is still open (see
   * BulkRoute.fold): nothing else of the profile is queued, so order holds, and the row settles
   * the update with the rest of its job.
   */
  private folded(lane: Lane, update: ProfileUpdate, route: UpdateRoute, settlement: Settlement, claim: Claim | undefined): boolean {
    const active = lane.active;
    const bulk = this.options.bulk;
    if (!active || route !== 'single' || !bulk?.policy.bulk) return false;
    if (!bulk.route.fold(lane, active.identity.value, update.attributes)) return false;
    active.settles.push(settlement, true);
    if (active.claims[active.claims.length - 1] !== claim) active.claims.push(claim);
    this.options.observer?.coalesced?.();
    return true;
  }

  /**
   * Hands the lane's queued updates to the route of its first run. Requests (single or realtime)
   * are merged only once a concurrency slot is free; a bulk row takes no slot (it waits for its
   * batch, not for an answer), so it is merged at once, and goes by single update when the bulk
   * route cannot carry it.
   */
  private schedule(lane: Lane): void {
    if (((lane.pending as Pending).runs[0] as Run).route === 'realtime') return this.scheduleRealtime(lane);
    const bulk = this.options.bulk;
    if (!bulk?.policy.bulk) return this.options.single.sendQueued(lane);
    const job = this.take(lane);
    if (!job) return;
    if (bulk.route.send(lane, job)) {
      job.attributes = CARRIED_BY_ROW;
      job.parked = true;
      this.options.observer?.routed?.('bulk', lane.key);
      job.settles.parkAll();
    } else this.options.single.send(lane, job);
  }

  private scheduleRealtime(lane: Lane): void {
    const realtime = this.options.realtime;
    if (realtime) return realtime.sendQueued(lane);
    if (!this.take(lane)) return;
    const error = new ConnectorError('CONFIG_INVALID', 'an update routed to the realtime route, but the connector was started without it', false);
    this.finished(lane, { status: 'failed', error, attempts: 0 });
  }

  private afterLane(lane: Lane): void {
    if (lane.active) return;
    if (lane.pending) this.schedule(lane);
    else {
      // The key is `kind:value` (identityKey), and a kind has no colon.
      const colon = lane.key.indexOf(':');
      this.lanes.get(lane.key.slice(0, colon))?.delete(lane.key.slice(colon + 1));
    }
  }

  private settleAll(settles: Settlements, result: UpdateResult): void {
    if (settles.size === 0) return;
    this.unsettled -= settles.size;
    settles.settle(result);
    if (this.unsettled === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
