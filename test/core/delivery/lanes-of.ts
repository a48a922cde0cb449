/** Lanes over a single route (and optionally a bulk one) built from the settings the delivery tests vary. */
import { BudgetWaits } from '../../../connector/core/delivery/budget-waits.js';
import type { Budget } from '../../../connector/core/delivery/budget.js';
import type { BulkRoute } from '../../../connector/core/delivery/bulk-route.js';
import type { CircuitBreaker } from '../../../connector/core/delivery/circuit-breaker.js';
import { Lanes, type Lane, type LanesObserver } from '../../../connector/core/delivery/lanes.js';
import { OutageGate } from '../../../connector/core/delivery/outage-gate.js';
import type { RoutePolicy } from '../../../connector/core/delivery/route-policy.js';
import { SingleRoute, type SingleRouteOptions } from '../../../connector/core/delivery/single-route.js';
import type { Clock } from '../../../connector/core/clock.js';
import type { OutageBudgetError } from '../../../connector/core/errors.js';
import type { RetryPolicy } from '../../../connector/core/retry.js';

export interface LanesSettings {
  concurrency: number;
  retry: RetryPolicy;
  /** The single endpoint's breaker, inside its outage gate. */
  breaker: CircuitBreaker;
  outageBudgetMs?: number;
  /** Hears the single endpoint's gate report its outage budget spent. */
  outageBudgetExhausted?(error: OutageBudgetError): void;
  quota: Budget;
  clock: Clock;
  buildRequests: SingleRouteOptions['buildRequests'];
  send: SingleRouteOptions['send'];
  bulk?: { route: BulkRoute<Lane>; policy: RoutePolicy };
  observer?: LanesObserver;
}

/** The lanes as createDeliveryEngine builds them, from these settings. */
export function lanesOf(settings: LanesSettings): Lanes {
  const { clock, observer } = settings;
  const gate = new OutageGate({ breaker: settings.breaker, endpoint: 'Target', outageBudgetMs: settings.outageBudgetMs, clock });
  if (settings.outageBudgetExhausted) gate.onBudgetExhausted(settings.outageBudgetExhausted);
  const single = new SingleRoute<Lane>({
    concurrency: settings.concurrency,
    retry: settings.retry,
    gate,
    quota: new BudgetWaits(settings.quota, clock, observer),
    clock,
    buildRequests: settings.buildRequests,
    send: settings.send,
    observer,
  });
  return new Lanes({ single, bulk: settings.bulk, observer });
}
