/**
 * The delivery half every entry point shares, built from the config: request builder, Target
 * clients, quota, one outage gate per endpoint, the routes and the lane scheduler over them, plus
 * the connector's retry policy. The realtime route (Delivery API) is built only when a mapping
 * routes there: otherwise no client, gate or budget of it exists.
 */
import { DeliveryClient, type DeliveryClientObserver } from '../../adapters/target-http/delivery-client.js';
import { TargetBulkClient } from '../../adapters/target-http/bulk-client.js';
import { TargetClient, type TargetClientObserver } from '../../adapters/target-http/client.js';
import type { Config } from '../../core/config.js';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../system/clock.js';
import { systemRandom } from '../../system/random.js';
import { BudgetWaits } from '../../core/delivery/budget-waits.js';
import { BulkRoute, type BulkObserver } from '../../core/delivery/bulk-route.js';
import { CircuitBreaker, type BreakerObserver } from '../../core/delivery/circuit-breaker.js';
import { Lanes, type Lane, type LanesObserver } from '../../core/delivery/lanes.js';
import type { Budget } from '../../core/delivery/budget.js';
import { OutageGate } from '../../core/delivery/outage-gate.js';
import { RealtimeRoute, unlimitedBudget } from '../../core/delivery/realtime-route.js';
import { RollingQuota } from '../../core/delivery/rolling-quota.js';
import { RoutePolicy } from '../../core/delivery/route-policy.js';
import { SingleRoute } from '../../core/delivery/single-route.js';
import type { OutageBudgetError } from '../../core/errors.js';
import { RetryPolicy } from '../../core/retry.js';
import { createDeliveryRequestBuilder, type DeliveryRequestBuilder } from '../../core/target-api/delivery-request.js';
import { createRequestBuilder, type RequestBuilder } from '../../core/target-api/request-builder.js';
import { BULK_CALL_WINDOW_MS } from '../../core/target-api/limits.js';
import { realtimeCallBudgetOf } from './quota.js';

/** The lanes and what they need, ready to deliver. */
export interface DeliveryEngine {
  lanes: Lanes;
  quota: Budget;
  builder: RequestBuilder;
  /** When updates go by bulk; absent with delivery.bulk.mode off. */
  routePolicy: RoutePolicy | undefined;
  /** Events the pipeline may hold now: more while updates go by bulk, whose rows settle only when their batch reports. */
  maxPending(): number;
  /** Age of the oldest bulk batch waiting for its status (0 without bulk). */
  oldestBulkPendingMs(): number;
  /** Calls `listener` once an endpoint (single, bulk or Delivery) has been down longer than delivery.outage_budget_ms: the run must end uncommitted. */
  onOutageBudgetExhausted(listener: (error: OutageBudgetError) => void): void;
  /** Cancels the lanes' timers and closes Target's connections. */
  close(): Promise<void>;
}

/** How the engine reports: the lanes, the Target breakers' outages, the HTTP replies, the bulk batches. */
export interface DeliveryObservers {
  lanes?: LanesObserver;
  breaker?: BreakerObserver;
  bulkBreaker?: BreakerObserver;
  realtimeBreaker?: BreakerObserver;
  client?: TargetClientObserver;
  /** The bulk API's replies; `client` hears them when absent. */
  bulkClient?: TargetClientObserver;
  realtimeClient?: DeliveryClientObserver;
  bulk?: BulkObserver;
  /** The route changed: true when updates go by bulk from now on. */
  routeChanged?(bulk: boolean): void;
  clock?: Clock;
}

/** The delivery config's backoff as the connector's one retry policy; `maxAttempts` bounds a request's own failures. */
export function retryPolicyOf(delivery: Config['delivery'], maxAttempts?: number): RetryPolicy {
  return new RetryPolicy({ initialMs: delivery.initial_backoff_ms, maxMs: delivery.max_backoff_ms, maxAttempts, random: systemRandom });
}

/** A request builder for the endpoint a config's `target` section names. */
export function requestBuilderFor(target: Pick<Config['target'], 'base_url' | 'path' | 'client_code'>): RequestBuilder {
  return createRequestBuilder({ baseUrl: target.base_url, pathTemplate: target.path, clientCode: target.client_code });
}

/** The Delivery API call builder of the configured door. */
export function deliveryRequestBuilderFor(target: Pick<Config['target'], 'base_url' | 'client_code' | 'realtime'>): DeliveryRequestBuilder {
  const { path, mbox, channel } = target.realtime;
  return createDeliveryRequestBuilder({ baseUrl: target.base_url, path, clientCode: target.client_code, mbox, channel });
}

/** What the engine takes from: requests, bulk rows and Delivery calls when they have a quota. */
export interface EngineBudgets {
  requests: Budget;
  rows: Budget | undefined;
  calls: Budget | undefined;
  /** Bulk API calls a minute; absent only for callers that never use bulk. */
  bulkCalls?: Budget;
}

/** Which routes the mapping needs beyond the single one (and bulk, per its config). */
export interface EngineRoutes {
  /** Some mapping entry has `route: realtime` (see usesRealtimeRoute). */
  realtime: boolean;
}

/** How warnings name the bulk row quota and the Delivery call budget. */
const ROW_QUOTA = 'the bulk row quota (delivery.bulk.daily_row_quota)';
const CALL_BUDGET = 'the Delivery API call budget (delivery.realtime.daily_call_budget)';
const BULK_CALLS = 'the bulk API calls a minute (delivery.bulk.calls_per_minute)';

/** The config's quotas as one process enforces them alone (write, preview: no fleet). */
export function processBudgets(config: Config, clock: Clock = systemClock): EngineBudgets {
  const { delivery } = config;
  const rowQuota = delivery.bulk.daily_row_quota;
  const callBudget = realtimeCallBudgetOf(config);
  return {
    requests: new RollingQuota(delivery.daily_quota, delivery.quota_window_ms, () => clock.now()),
    rows: rowQuota === undefined ? undefined : new RollingQuota(rowQuota, delivery.quota_window_ms, () => clock.now(), ROW_QUOTA),
    calls: callBudget === undefined ? undefined : new RollingQuota(callBudget, delivery.quota_window_ms, () => clock.now(), CALL_BUDGET),
    bulkCalls: new RollingQuota(delivery.bulk.calls_per_minute, BULK_CALL_WINDOW_MS, () => clock.now(), BULK_CALLS),
  };
}

/** An endpoint's outage gate: its breaker (threshold from the config unless given) and delivery.outage_budget_ms. */
export function outageGateFor(
  config: Config,
  endpoint: { name: string; breakerName: string; threshold?: number; observer?: BreakerObserver },
  clock: Clock,
): OutageGate {
  const { delivery } = config;
  const breaker = new CircuitBreaker({
    endpoint: endpoint.breakerName,
    threshold: endpoint.threshold ?? delivery.breaker_threshold,
    probePolicy: retryPolicyOf(delivery),
    clock,
    observer: endpoint.observer,
  });
  return new OutageGate({ breaker, endpoint: endpoint.name, outageBudgetMs: delivery.outage_budget_ms, clock });
}

/** Builds request builder, Target clients, gates, routes and lanes from the config, taking from `budgets`; the realtime route only when `routes` asks for it. */
export function createDeliveryEngine(
  config: Config,
  observers: DeliveryObservers = {},
  budgets?: EngineBudgets,
  routes: EngineRoutes = { realtime: false },
): DeliveryEngine {
  const clock = observers.clock ?? systemClock;
  const { delivery, target } = config;
  const { requests: quota, rows, calls, bulkCalls } = budgets ?? processBudgets(config, clock);
  const builder = requestBuilderFor(target);
  const client = new TargetClient({ baseUrl: target.base_url, timeoutMs: target.timeout_ms, connections: delivery.concurrency, observer: observers.client });
  const gate = outageGateFor(config, { name: 'Target', breakerName: 'Target', observer: observers.breaker }, clock);
  const single = new SingleRoute<Lane>({
    concurrency: delivery.concurrency,
    retry: retryPolicyOf(delivery, delivery.max_attempts),
    gate,
    quota: new BudgetWaits(quota, clock, observers.lanes),
    clock,
    buildRequests: (update) => builder.build(update),
    send: (request) => client.send(request),
    observer: observers.lanes,
  });
  const bulk = bulkRouteFor(config, clock, observers, rows, bulkCalls);
  const realtime = routes.realtime ? realtimeRouteFor(config, clock, observers, calls) : undefined;
  const lanes = new Lanes({ single, bulk: bulk && { route: bulk.route, policy: bulk.policy }, realtime: realtime?.route, observer: observers.lanes });
  return {
    lanes,
    quota,
    builder,
    routePolicy: bulk?.policy,
    maxPending: () => (bulk?.policy.bulk ? delivery.bulk.max_pending : delivery.max_pending),
    oldestBulkPendingMs: () => bulk?.route.oldestPendingMs() ?? 0,
    onOutageBudgetExhausted(listener) {
      gate.onBudgetExhausted(listener);
      bulk?.route.gate.onBudgetExhausted(listener);
      realtime?.route.gate.onBudgetExhausted(listener);
    },
    async close() {
      lanes.stop();
      await Promise.all([client.close(), bulk?.close(), realtime?.client.close()]);
    },
  };
}

/** The bulk route, its client and the policy that decides when it is taken; undefined with mode off. */
function bulkRouteFor(config: Config, clock: Clock, observers: DeliveryObservers, rowQuota: Budget | undefined, calls: Budget | undefined) {
  const { delivery, target } = config;
  const settings = delivery.bulk;
  if (settings.mode === 'off') return undefined;
  const client = new TargetBulkClient({
    baseUrl: target.base_url,
    batchPath: target.bulk_path.replaceAll('{client_code}', encodeURIComponent(target.client_code)),
    timeoutMs: target.timeout_ms,
    observer: observers.bulkClient ?? observers.client,
  });
  const policy = new RoutePolicy({ mode: settings.mode, enterLag: settings.enter_lag, exitLag: settings.exit_lag });
  if (observers.routeChanged) policy.onChange(observers.routeChanged);
  const route = new BulkRoute<Lane>({
    api: client,
    clock,
    // A batch larger than the row quota could never be sent.
    maxRows: Math.min(settings.max_rows, settings.daily_row_quota ?? Number.POSITIVE_INFINITY),
    maxBytes: settings.max_bytes,
    lingerMs: settings.linger_ms,
    readingBacklog: () => policy.readingBacklog,
    pollIntervalMs: settings.poll_interval_ms,
    statusTimeoutMs: settings.status_timeout_ms,
    retry: retryPolicyOf(delivery, settings.max_attempts),
    gate: outageGateFor(config, { name: 'the Target bulk API', breakerName: 'Target bulk API', observer: observers.bulkBreaker }, clock),
    rowQuota,
    calls,
    rememberProfiles: settings.remember_profiles,
    observer: observers.bulk,
  });
  return { route, policy, close: () => client.close() };
}

/** The realtime route over its own Delivery client, outage gate and call budget (unlimited without one). */
function realtimeRouteFor(config: Config, clock: Clock, observers: DeliveryObservers, calls: Budget | undefined) {
  const { delivery, target } = config;
  const builder = deliveryRequestBuilderFor(target);
  const client = new DeliveryClient({
    baseUrl: target.base_url,
    timeoutMs: target.timeout_ms,
    connections: delivery.concurrency,
    authToken: target.auth_token,
    observer: observers.realtimeClient,
  });
  const route = new RealtimeRoute<Lane>({
    concurrency: delivery.concurrency,
    retry: retryPolicyOf(delivery, delivery.max_attempts),
    gate: outageGateFor(config, { name: 'the Delivery API', breakerName: 'Target Delivery API', observer: observers.realtimeBreaker }, clock),
    quota: new BudgetWaits(calls ?? unlimitedBudget(CALL_BUDGET), clock, observers.lanes),
    clock,
    buildRequests: (update) => builder.build(update),
    send: (call) => client.send(call),
    observer: observers.lanes,
  });
  return { route, client };
}
