/** The connector's Prometheus metrics: one registry, typed handles for the code that counts. */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ErrorCode } from '../core/errors.js';
import { TopicTally } from './topic-tally.js';

/** The error codes an event of `run` can be dead-lettered with: undecodable, unmappable, rejected, out of attempts. */
export const DEAD_LETTER_REASONS = [
  'DECODE_FAILED',
  'UNMAPPABLE_EVENT',
  'REGISTRY_REJECTED',
  'TARGET_REJECTED',
  'TARGET_RETRYABLE',
  'BULK_ROW_FAILED',
] as const satisfies readonly ErrorCode[];

/** Why a request is retried (the `reason` of tps_retries_total). */
export const RETRY_REASONS = ['quota', 'http_4xx', 'http_5xx', 'connection'] as const;

/** The endpoints that have a circuit breaker (the `endpoint` of tps_breaker_open). */
export const BREAKER_ENDPOINTS = ['target', 'target_bulk', 'target_delivery', 'schema_registry'] as const;

/** What a run knows before its first event: the label values its series start from. */
export interface KnownLabels {
  /** The topics the mapping reads. */
  topics: readonly string[];
}

/** Figures read when Prometheus scrapes, so they are exact at that moment. */
export interface LiveFigures {
  pending(): number;
  ready(): boolean;
  /** Single requests this replica may still send in the window, and the most it may send in one. */
  quota?(): { remaining: number; limit: number } | undefined;
  /** Age of the oldest bulk batch still waiting for its status, in milliseconds. */
  oldestBulkPendingMs?(): number;
}

/** Every metric the connector exports; names are part of the operations contract (dashboards, alerts). */
export interface Metrics {
  registry: Registry;
  /** Events read from Kafka. */
  eventsConsumed: Counter<'topic'>;
  /** Events read, counted per event and handed to eventsConsumed when scraped. */
  consumedByTopic: TopicTally;
  /** Events whose update Target acknowledged. */
  eventsDelivered: Counter<'topic'>;
  /** Events delivered, counted per event and handed to eventsDelivered when scraped. */
  deliveredByTopic: TopicTally;
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
  /** Time from sending a request to Target to its answer, by route: single, bulk or realtime (Delivery API). */
  requestDuration: Histogram<'route'>;
  requestsInFlight: Gauge;
  /** Events fetched and not yet committed, read at every scrape from the `readLiveFrom` source. */
  eventsPending: Gauge;
  /** 1 while the consumer is in its group and consuming (what /readyz says), read at every scrape. */
  ready: Gauge;
  /** Names what the live gauges read when scraped. */
  readLiveFrom(source: LiveFigures): void;
  /** Creates every labelled series a run can know of at 0, so that dashboards show 0 rather than no data. */
  initialise(known: KnownLabels): void;
  /** Requests this replica may still send in the rolling quota window, read at every scrape. */
  quotaRemaining: Gauge;
  /** The most requests this replica may send in one window now: its share, or the account's quota when the fleet shares it. */
  quotaLimit: Gauge;
  /** Requests the whole fleet holds in the shared window, as the quota store last reported (Redis store only). */
  quotaFleetUsed: Gauge;
  /** 1 while the shared quota store cannot be reached and this replica keeps to its own share. */
  quotaStoreFallback: Gauge;
  /** Messages between the committed offset and the partition's end. */
  consumerLag: Gauge<'topic' | 'partition'>;
  /** 1 while the endpoint's circuit breaker is open (an outage is being waited out). */
  breakerOpen: Gauge<'endpoint'>;
  /** Times the breaker opened, per endpoint. */
  breakerOpened: Counter<'endpoint'>;
  /** Profiles whose next request waits for a retry or for the endpoint to come back. */
  retryBacklog: Gauge;
  /** Values cut to 256 characters by `long_values: truncate`, per attribute. */
  valuesTruncated: Counter<'attribute'>;
  /** Profiles' merged updates set off, by route: single requests or bulk rows. */
  updatesRouted: Counter<'route'>;
  /** 1 while updates go by bulk (delivery.bulk.mode auto, behind; or always). */
  bulkActive: Gauge;
  /** Bulk batches, by state: submitted (accepted by Target), complete (every row reported). */
  bulkBatches: Counter<'state'>;
  /** Bulk rows as reported, by status: success, error, timeout (still pending past status_timeout_ms). */
  bulkRows: Counter<'status'>;
  /** Bytes of the batch files Target accepted. */
  bulkBytes: Counter;
  /** Age of the oldest batch still waiting for its status, read at every scrape. */
  bulkOldestPending: Gauge;
}

/** A fresh registry holding every connector metric and Node's default process metrics. */
export function createMetrics(): Metrics {
  // A registry per call, never the global one, so tests and embedded runs do not collide.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let live: LiveFigures | undefined;
  const consumedByTopic = new TopicTally();
  const deliveredByTopic = new TopicTally();
  return {
    consumedByTopic,
    deliveredByTopic,
    readLiveFrom(source) {
      live = source;
    },
    initialise({ topics }) {
      for (const topic of topics) {
        this.eventsConsumed.inc({ topic }, 0);
        this.eventsDelivered.inc({ topic }, 0);
        this.eventsFiltered.inc({ topic }, 0);
        for (const reason of DEAD_LETTER_REASONS) this.eventsDeadLettered.inc({ topic, reason }, 0);
      }
      for (const reason of RETRY_REASONS) this.retries.inc({ reason }, 0);
      // Statuses are open-ended: the series that exist from the start are those of success.
      for (const method of ['GET', 'POST']) this.requests.inc({ method, status: '200' }, 0);
      for (const endpoint of BREAKER_ENDPOINTS) {
        this.breakerOpen.set({ endpoint }, 0);
        this.breakerOpened.inc({ endpoint }, 0);
      }
      for (const route of ['single', 'bulk', 'realtime']) {
        this.updatesRouted.inc({ route }, 0);
        this.requestDuration.zero({ route });
      }
      for (const state of ['submitted', 'complete']) this.bulkBatches.inc({ state }, 0);
      for (const status of ['success', 'error', 'timeout']) this.bulkRows.inc({ status }, 0);
    },
    registry,
    eventsConsumed: new Counter({
      name: 'tps_events_consumed_total',
      help: 'Events read from Kafka.',
      labelNames: ['topic'] as const,
      registers,
      collect() {
        consumedByTopic.drainInto(this);
      },
    }),
    eventsDelivered: new Counter({
      name: 'tps_events_delivered_total',
      help: 'Events whose profile update Target acknowledged.',
      labelNames: ['topic'] as const,
      registers,
      collect() {
        deliveredByTopic.drainInto(this);
      },
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
      help: 'Latency of requests to Target, by route (single, bulk, realtime).',
      labelNames: ['route'] as const,
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
      help: 'Events fetched from Kafka and not yet committed.',
      registers,
      // Read when scraped, so the figure is exact at every scrape, the final commit included.
      collect() {
        if (live) this.set(live.pending());
      },
    }),
    ready: new Gauge({
      name: 'tps_ready',
      help: 'Whether this replica is in its consumer group and consuming (1) or not (0), as /readyz says.',
      registers,
      collect() {
        this.set(live?.ready() ? 1 : 0);
      },
    }),
    quotaRemaining: new Gauge({
      name: 'tps_quota_remaining',
      help: 'Requests this replica may still send in the rolling quota window.',
      registers,
      collect() {
        const quota = live?.quota?.();
        if (quota) this.set(quota.remaining);
      },
    }),
    quotaLimit: new Gauge({
      name: 'tps_quota_limit',
      help: 'The most requests this replica may send in one quota window now: its share of delivery.daily_quota (local store, or Redis unreachable), or all of it (shared in Redis).',
      registers,
      collect() {
        const quota = live?.quota?.();
        if (quota) this.set(quota.limit);
      },
    }),
    quotaFleetUsed: new Gauge({
      name: 'tps_quota_fleet_used',
      help: 'Requests the whole fleet holds in the shared quota window, as Redis last reported (quota_store kind redis).',
      registers,
    }),
    quotaStoreFallback: new Gauge({
      name: 'tps_quota_store_fallback',
      help: 'Whether the shared quota store (Redis) cannot be reached and this replica keeps to its own share (1) or not (0).',
      registers,
    }),
    consumerLag: new Gauge({
      name: 'tps_consumer_lag',
      help: 'Messages between the committed offset and the end of the partition.',
      labelNames: ['topic', 'partition'] as const,
      registers,
    }),
    breakerOpen: new Gauge({
      name: 'tps_breaker_open',
      help: 'Whether the circuit breaker of an endpoint (target, target_bulk, schema_registry) is open: an outage is being waited out.',
      labelNames: ['endpoint'] as const,
      registers,
    }),
    breakerOpened: new Counter({
      name: 'tps_breaker_opened_total',
      help: 'Times the circuit breaker of an endpoint opened.',
      labelNames: ['endpoint'] as const,
      registers,
    }),
    retryBacklog: new Gauge({
      name: 'tps_retry_backlog',
      help: 'Profiles whose next request waits for a retry or for Target to come back.',
      registers,
    }),
    valuesTruncated: new Counter({
      name: 'tps_values_truncated_total',
      help: 'Attribute values cut to 256 characters (long_values: truncate), per attribute.',
      labelNames: ['attribute'] as const,
      registers,
    }),
    updatesRouted: new Counter({
      name: 'tps_updates_routed_total',
      help: "Profiles' merged updates set off, by route (single, bulk or realtime).",
      labelNames: ['route'] as const,
      registers,
    }),
    bulkActive: new Gauge({
      name: 'tps_bulk_active',
      help: 'Whether updates go by the Bulk Profile Update API now (1) or by single requests (0).',
      registers,
    }),
    bulkBatches: new Counter({
      name: 'tps_bulk_batches_total',
      help: 'Bulk batches, by state: submitted (accepted by Target), complete (every row reported).',
      labelNames: ['state'] as const,
      registers,
    }),
    bulkRows: new Counter({
      name: 'tps_bulk_rows_total',
      help: 'Bulk rows as reported, by status: success, error, timeout (pending past status_timeout_ms).',
      labelNames: ['status'] as const,
      registers,
    }),
    bulkBytes: new Counter({
      name: 'tps_bulk_bytes_total',
      help: 'Bytes of the batch files Target accepted.',
      registers,
    }),
    bulkOldestPending: new Gauge({
      name: 'tps_bulk_oldest_pending_seconds',
      help: 'Age of the oldest bulk batch still waiting for its status.',
      registers,
      collect() {
        const ms = live?.oldestBulkPendingMs?.();
        if (ms !== undefined) this.set(ms / 1000);
      },
    }),
  };
}
