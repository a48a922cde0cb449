/**
 * A route is one of Target's doors (single updates, bulk batch files, the Delivery API) as
 * the lane scheduler drives it: the scheduler keeps one thing in flight per profile across every
 * route and hands a route the lane's merged update; the route sends it through its endpoint's
 * outage gate, within its own budgets, and settles it back through the host.
 */
import type { ProfileUpdate } from '../profile.js';
import type { OutageGate } from './outage-gate.js';
import type { UpdateResult } from './send-result.js';

/**
 * Whether the work an update belongs to is still wanted. Its partition may move to another member
 * before the update is sent: the new owner reads the event again, so this member must not send it.
 */
export interface Claim {
  readonly owned: boolean;
}

export type RouteName = 'single' | 'bulk' | 'realtime';

/**
 * What an update settles: the event it belongs to. An object, not a closure, so that an event
 * waiting in a backlog costs one small object, whatever its route.
 */
export interface Settlement {
  /** Called exactly once with the update's result (unless `park` handed the event to a sink). */
  settle(result: UpdateResult): void;
  /**
   * The update will wait long (a bulk row waits for its batch's report): the event may let go of
   * its record. True when it also handed itself to `sink` as its position (it needs nothing
   * else to end): the sink then settles it through its host, and the caller drops this object.
   */
  park?(sink: ParkedSink): boolean;
}

/** Ends parked events by position: the pipeline, for the events of one partition under one lease. */
export interface ParkedHost {
  /** The update of the event at `offset`, fetched at `fetchedAt`, ended with `result`. */
  settleParked(offset: number, fetchedAt: number, result: UpdateResult): void;
}

/** Keeps parked events as positions, two numbers each instead of an object. */
export interface ParkedSink {
  add(host: ParkedHost, offset: number, fetchedAt: number): void;
}

/** One profile's lane as a route sees it. */
export interface LaneRef {
  /** The profile's identity key (see identityKey). */
  readonly key: string;
}

/** A lane's queued updates merged, on their way by one route: later value wins per attribute. */
export interface Job {
  readonly identity: ProfileUpdate['identity'];
  readonly attributes: Record<string, string>;
  /** The claim of each run of updates merged in; the job is dead once none is owned. */
  readonly claims: ReadonlyArray<Claim | undefined>;
}

/** What a route calls back: the lane scheduler. */
export interface RouteHost<L extends LaneRef> {
  /** Merges the lane's queued updates into its job now (so that what queued meanwhile goes too); undefined when none is live. */
  take(lane: L): Job | undefined;
  /** The lane's job ended: every update it covers settles with `result`. */
  finished(lane: L, result: UpdateResult): void;
  /** For a stop: the lane's job and everything queued behind it settle `cancelled`. */
  abandon(lane: L): void;
  /** A request of the lane's job reached Target (an mbox call ends Target's override of earlier batches). */
  reached(lane: L): void;
  /** `blocked` of a route may have changed. */
  blockedChanged(): void;
}

/** One door to Target. */
export interface Route<L extends LaneRef> {
  readonly name: RouteName;
  /** The outage gate of the route's endpoint. */
  readonly gate: OutageGate;
  /** True while the route's sending waits (endpoint down, budget spent): fetching should pause. */
  readonly blocked: boolean;
  /** Called once by the scheduler the route serves. */
  attach(host: RouteHost<L>): void;
  /** Takes the lane's merged job; false when this route cannot carry it (another route then takes it). */
  send(lane: L, job: Job): boolean;
  /** Sends what waits to be batched: nothing more will come soon. */
  flush(): void;
  /** Cancels every timer; unsettled jobs stay unsettled (their offsets are not committed). */
  stop(): void;
}

/** True when no update behind the job is live any more: sending would serve nobody. */
export function unclaimed(job: Job): boolean {
  return job.claims.every((claim) => claim?.owned === false);
}
