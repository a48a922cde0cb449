/**
 * The delivery half every entry point shares, built from the config: request builder, Target
 * client, quota, circuit breaker and the per-profile lanes, plus the connector's retry policy.
 */
import { TargetClient, type TargetClientObserver } from '../../adapters/target-http/client.js';
import type { Config } from '../../core/config.js';
import { systemClock, type Clock } from '../../core/clock.js';
import { CircuitBreaker, type BreakerObserver } from '../../core/delivery/circuit-breaker.js';
import { Lanes, type LanesObserver } from '../../core/delivery/lanes.js';
import { RollingQuota } from '../../core/delivery/rolling-quota.js';
import { RetryPolicy } from '../../core/retry.js';
import { createRequestBuilder, type RequestBuilder } from '../../core/target-api/request-builder.js';

/** The lanes and what they need, ready to deliver. */
export interface DeliveryEngine {
  lanes: Lanes;
  quota: RollingQuota;
  builder: RequestBuilder;
  /** Cancels the lanes' timers and closes Target's connections. */
  close(): Promise<void>;
}

/** How the engine reports: the lanes, the Target breaker's outages, the HTTP replies. */
export interface DeliveryObservers {
  lanes?: LanesObserver;
  breaker?: BreakerObserver;
  client?: TargetClientObserver;
  clock?: Clock;
}

/** The delivery config's backoff as the connector's one retry policy; `maxAttempts` bounds a request's own failures. */
export function retryPolicyOf(delivery: Config['delivery'], maxAttempts?: number): RetryPolicy {
  return new RetryPolicy({ initialMs: delivery.initial_backoff_ms, maxMs: delivery.max_backoff_ms, maxAttempts });
}

/** A request builder for the endpoint a config's `target` section names. */
export function requestBuilderFor(target: Pick<Config['target'], 'base_url' | 'path' | 'client_code'>): RequestBuilder {
  return createRequestBuilder({ baseUrl: target.base_url, pathTemplate: target.path, clientCode: target.client_code });
}

/** Builds request builder, Target client, quota, breaker and lanes from the config. */
export function createDeliveryEngine(config: Config, observers: DeliveryObservers = {}): DeliveryEngine {
  const clock = observers.clock ?? systemClock;
  const { delivery, target } = config;
  const builder = requestBuilderFor(target);
  const client = new TargetClient({ baseUrl: target.base_url, timeoutMs: target.timeout_ms, connections: delivery.concurrency, observer: observers.client });
  const quota = new RollingQuota(delivery.daily_quota, delivery.quota_window_ms, () => clock.now());
  const breaker = new CircuitBreaker({
    endpoint: 'Target',
    threshold: delivery.breaker_threshold,
    probePolicy: retryPolicyOf(delivery),
    clock,
    observer: observers.breaker,
  });
  const lanes = new Lanes({
    concurrency: delivery.concurrency,
    retry: retryPolicyOf(delivery, delivery.max_attempts),
    breaker,
    outageBudgetMs: delivery.outage_budget_ms,
    quota,
    clock,
    buildRequests: (update) => builder.build(update),
    send: (request) => client.send(request),
    observer: observers.lanes,
  });
  return {
    lanes,
    quota,
    builder,
    async close() {
      lanes.stop();
      await client.close();
    },
  };
}
