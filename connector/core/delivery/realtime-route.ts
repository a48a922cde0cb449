/**
 * The realtime route: a lane's merged update becomes calls to Target's server-side Delivery API,
 * applied to the profile within seconds instead of the single API's hour. It sends like the single
 * route (the calls of one update one after another, the next only once the previous succeeded;
 * a call's own failures retried with the one retry policy; a permanent failure fails the update)
 * but through its own outage gate, within its own concurrency and its own call budget: a Delivery
 * outage or a spent budget holds only the lanes whose next update goes by this route.
 *
 * Target serves at most 100 concurrent calls per session id (more are refused with 420). Each
 * profile has its own session (deliverySessionId) and the lane scheduler keeps one thing in
 * flight per profile across every route, so at most one call per session is ever in flight
 * however high the concurrency: the limit holds by construction.
 */
import type { DeliveryRequest } from '../target-api/delivery-request.js';
import type { Budget } from './budget.js';
import type { LaneRef } from './route.js';
import { SingleRoute, type SingleRouteOptions } from './single-route.js';

export type RealtimeRouteOptions = Omit<SingleRouteOptions<DeliveryRequest>, 'name'>;

/** The Delivery API door as a route of the lane scheduler. */
export class RealtimeRoute<L extends LaneRef> extends SingleRoute<L, DeliveryRequest> {
  constructor(options: RealtimeRouteOptions) {
    super({ ...options, name: 'realtime' });
  }
}

/** The budget of a route with no quota (`delivery.realtime.daily_call_budget` absent or 0): it never runs out. */
export function unlimitedBudget(name: string): Budget {
  return {
    name,
    tryTake: () => true,
    finished: () => {},
    msUntilAvailable: () => 0,
    remaining: () => Number.POSITIVE_INFINITY,
  };
}
