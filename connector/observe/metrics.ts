/** The connector's Prometheus metrics: one registry, typed handles for the code that counts. */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Every metric the connector exports; names are part of the operations contract (dashboards, alerts). */
export interface Metrics {
  registry: Registry;
  /** Events read from Kafka. */
  eventsConsumed: Counter<'topic'>;
  /** Events whose update Target acknowledged. */
  eventsDelivered: Counter<'topic'>;
  /** Events dropped on purpose by a mapping's `when`. */
  eventsFiltered: Counter<'topic'>;
  /** Events written to the dead-letter topic, by error code. */
  eventsDeadLettered: Counter<'topic' | 'reason'>;
  /** Queued updates merged into another update for the same profile. */
  updatesCoalesced: Counter;
  /** Requests retried, by cause (status class, timeout, connection). */
  retries: Counter<'reason'>;
  /** Requests sent to Target, by HTTP method and status (or `error` when none came back). */
  requests: Counter<'method' | 'status'>;
  /** Time from sending a request to Target to its answer. */
  requestDuration: Histogram;
  requestsInFlight: Gauge;
  /** Events held in memory, not yet acknowledged. */
  eventsPending: Gauge;
  /** Requests left in the rolling quota window. */
  quotaRemaining: Gauge;
  /** Messages between the committed offset and the partition's end. */
  consumerLag: Gauge<'topic' | 'partition'>;
}

/** A fresh registry holding every connector metric and Node's default process metrics. */
export function createMetrics(): Metrics {
  // A registry per call, never the global one, so tests and embedded runs do not collide.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    eventsConsumed: new Counter({
      name: 'tps_events_consumed_total',
      help: 'Events read from Kafka.',
      labelNames: ['topic'] as const,
      registers,
    }),
    eventsDelivered: new Counter({
      name: 'tps_events_delivered_total',
      help: 'Events whose profile update Target acknowledged.',
      labelNames: ['topic'] as const,
      registers,
    }),
    eventsFiltered: new Counter({
      name: 'tps_events_filtered_total',
      help: "Events skipped by a mapping's when conditions.",
      labelNames: ['topic'] as const,
      registers,
    }),
    eventsDeadLettered: new Counter({
      name: 'tps_events_dead_lettered_total',
      help: 'Events written to the dead-letter topic, by reason.',
      labelNames: ['topic', 'reason'] as const,
      registers,
    }),
    updatesCoalesced: new Counter({
      name: 'tps_updates_coalesced_total',
      help: 'Queued profile updates merged into a later update for the same profile.',
      registers,
    }),
    retries: new Counter({
      name: 'tps_retries_total',
      help: 'Requests to Target retried, by reason.',
      labelNames: ['reason'] as const,
      registers,
    }),
    requests: new Counter({
      name: 'tps_requests_total',
      help: 'Requests sent to Target, by method and HTTP status.',
      labelNames: ['method', 'status'] as const,
      registers,
    }),
    requestDuration: new Histogram({
      name: 'tps_request_duration_seconds',
      help: 'Latency of requests to Target.',
      // Up to the default 10 s timeout, with room for slow tails.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    requestsInFlight: new Gauge({
      name: 'tps_requests_in_flight',
      help: 'Requests to Target awaiting an answer.',
      registers,
    }),
    eventsPending: new Gauge({
      name: 'tps_events_pending',
      help: 'Events held in memory and not yet acknowledged.',
      registers,
    }),
    quotaRemaining: new Gauge({
      name: 'tps_quota_remaining',
      help: 'Requests left in the rolling quota window.',
      registers,
    }),
    consumerLag: new Gauge({
      name: 'tps_consumer_lag',
      help: 'Messages between the committed offset and the end of the partition.',
      labelNames: ['topic', 'partition'] as const,
      registers,
    }),
  };
}
