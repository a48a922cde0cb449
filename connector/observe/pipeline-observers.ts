import type { Logger } from 'pino';
import type { BreakerObserver } from '../core/delivery/circuit-breaker.js';
import type { BulkObserver } from '../core/delivery/bulk-route.js';
import type { FleetBudgetObserver } from '../core/delivery/fleet-budget.js';
import type { LanesObserver } from '../core/delivery/lanes.js';
import type { EventPosition, PipelineObserver } from '../core/pipeline/pipeline.js';
import type { TargetClientObserver } from '../adapters/target-http/client.js';
import type { DeliveryClientObserver } from '../adapters/target-http/delivery-client.js';
import { describeError, type Misconfiguration } from '../core/errors.js';
import type { LagObserver } from '../adapters/kafka/lag-refresher.js';
import type { Metrics } from './metrics.js';
import type { RunStats } from './run-stats.js';
import { Throttle } from './throttle.js';
import { TruncationReport } from './truncation-report.js';

/** The HTTP status a failed request got, if it got one (Target errors carry it). */
function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** Why a request is retried, as a low-cardinality label. */
function retryReason(error: unknown): string {
  const status = statusOf(error);
  if (status === 429) return 'quota';
  if (status !== undefined) return `http_${Math.floor(status / 100)}xx`;
  return 'connection';
}

/** How often a repeated warning may be logged while its cause persists. */
const WARN_EVERY_MS = 60_000;

/** The observers of every layer a run has, fed into the metrics, the run's stats and throttled warnings. */
export interface RunObservers<M> {
  lanes: LanesObserver;
  bulk: BulkObserver;
  routeChanged(bulk: boolean): void;
  client: TargetClientObserver;
  bulkClient: TargetClientObserver;
  realtimeClient: DeliveryClientObserver;
  pipeline: PipelineObserver<M>;
  lag: LagObserver;
  truncations: TruncationReport;
}

/** Where an event came from, for a log line. */
function originOf(event: EventPosition): { topic: string; partition: number; offset: number } {
  return { topic: event.topic, partition: event.partition, offset: event.offset };
}

/** Wires every layer's events to the Prometheus metrics, the run's stats and warnings. */
export function pipelineObservers<M>(metrics: Metrics, stats: RunStats, logger?: Logger): RunObservers<M> {
  const retryWarning = new Throttle(WARN_EVERY_MS);
  // At most one line a minute: a bad batch must not flood the log; the metric counts every one.
  const deadLetterWarning = new Throttle(WARN_EVERY_MS);
  const truncations = new TruncationReport(logger ?? { warn: () => {} }, (attribute) => metrics.valuesTruncated.inc({ attribute }));
  let retriesSinceWarning = 0;
  let deadLettersSinceWarning = 0;
  return {
    truncations,
    lanes: {
      requestStarted() {
        metrics.requestsInFlight.inc();
      },
      requestFinished(_request, { error, durationMs }) {
        metrics.requestsInFlight.dec();
        stats.requestFinished(durationMs, error !== undefined);
      },
      retryScheduled(error) {
        metrics.retries.inc({ reason: retryReason(error) });
        stats.retries++;
        retriesSinceWarning++;
        if (logger && retryWarning.ready()) {
          logger.warn(
            { retries: retriesSinceWarning, lastError: describeError(error).message },
            'requests to Target are failing and being retried (nothing is skipped); repeated at most once a minute',
          );
          retriesSinceWarning = 0;
        }
      },
      coalesced() {
        metrics.updatesCoalesced.inc();
        stats.coalesced++;
      },
      retryBacklog(profiles) {
        metrics.retryBacklog.set(profiles);
      },
      routed(route) {
        metrics.updatesRouted.inc({ route });
      },
      quotaExhausted({ budget, refillInMs }) {
        logger?.warn(
          { budget, refillsAt: new Date(Date.now() + refillInMs).toISOString() },
          `${budget} is spent: updates wait for it and fetching pauses until it refills; nothing is skipped or dead-lettered`,
        );
      },
      quotaRestored({ budget, waitedMs }) {
        logger?.info({ budget, waitedSeconds: Math.round(waitedMs / 1000) }, `${budget} has room again; delivery resumed`);
      },
    },
    bulk: {
      batchSubmitted(_rows, bytes) {
        metrics.bulkBatches.inc({ state: 'submitted' });
        metrics.bulkBytes.inc(bytes);
      },
      batchCompleted() {
        metrics.bulkBatches.inc({ state: 'complete' });
      },
      rowsReported(status, rows) {
        metrics.bulkRows.inc({ status }, rows);
      },
      submitRetried(error) {
        metrics.retries.inc({ reason: retryReason(error) });
        stats.retries++;
      },
    },
    routeChanged(bulk) {
      metrics.bulkActive.set(bulk ? 1 : 0);
      logger?.info({ bulk }, bulk ? 'the consumer is behind: updates go by the Bulk Profile Update API' : 'caught up: updates go by single requests again');
    },
    client: clientObserver(metrics, 'single'),
    bulkClient: clientObserver(metrics, 'bulk'),
    realtimeClient: {
      replied(status, durationMs) {
        metrics.requests.inc({ method: 'POST', status: status === undefined ? 'error' : String(status) });
        metrics.requestDuration.observe({ route: 'realtime' }, durationMs / 1000);
      },
    },
    pipeline: {
      consumed(topic) {
        metrics.consumedByTopic.add(topic);
        stats.consumed++;
      },
      settled(event, outcome, heldMs) {
        const { topic } = event;
        if (outcome.kind === 'delivered') metrics.deliveredByTopic.add(topic);
        else if (outcome.kind === 'filtered') metrics.eventsFiltered.inc({ topic });
        else if (outcome.kind === 'failed') {
          metrics.eventsDeadLettered.inc({ topic, reason: describeError(outcome.error).code });
          deadLettersSinceWarning++;
          if (logger && deadLetterWarning.ready()) {
            logger.warn(
              { ...originOf(event), err: describeError(outcome.error), deadLetters: deadLettersSinceWarning },
              'events go to the dead-letter topic (one line a minute at most; tps_events_dead_lettered_total counts them all)',
            );
            deadLettersSinceWarning = 0;
          }
        }
        stats.eventSettled(outcome, heldMs);
      },
      truncated(attributes) {
        truncations.record(attributes);
      },
    },
    lag: {
      lag(topic, partition, lag) {
        metrics.consumerLag.set({ topic, partition: String(partition) }, lag);
      },
      released(topic, partition) {
        metrics.consumerLag.remove({ topic, partition: String(partition) });
      },
    },
  };
}

/** What a misconfiguration adds to an outage line's fields. */
function misconfigurationFields(m: Misconfiguration | undefined): Record<string, unknown> {
  return m ? { likelyConfigError: true, status: m.status, url: m.url, check: m.keys } : {};
}

/** The operator's part of a misconfiguration: what the answer means and the keys to check. */
function settingsHint(m: Misconfiguration): string {
  return `${m.url}: ${m.reason}; check ${m.keys.join(', ')}`;
}

/**
 * Logs and counts an endpoint's outages: one warning when its breaker opens (with the cause and
 * the next probe), one line a minute while it stays open, and one when it closes.
 */
export function breakerObserver(metrics: Metrics, logger: Logger, metricLabel: string): BreakerObserver {
  const stillDown = new Throttle(WARN_EVERY_MS);
  const at = (inMs: number) => new Date(Date.now() + inMs).toISOString();
  return {
    opened({ endpoint, cause, nextProbeInMs, misconfiguration }) {
      metrics.breakerOpen.set({ endpoint: metricLabel }, 1);
      metrics.breakerOpened.inc({ endpoint: metricLabel });
      stillDown.ready();
      const pause = 'delivery and fetching pause until it answers a probe; nothing is dead-lettered for an outage';
      logger.warn(
        { endpoint, cause: describeError(cause).message, nextProbeAt: at(nextProbeInMs), ...misconfigurationFields(misconfiguration) },
        misconfiguration
          ? `${endpoint} answers every request with HTTP ${misconfiguration.status}: likely a configuration error, not an outage. ${settingsHint(misconfiguration)}. Meanwhile ${pause}; delivery.outage_budget_ms applies as for any outage`
          : `${endpoint} is failing for every request: ${pause}`,
      );
    },
    probeFailed({ endpoint, cause, nextProbeInMs, openForMs, misconfiguration }) {
      if (!stillDown.ready()) return;
      logger.warn(
        {
          endpoint,
          cause: describeError(cause).message,
          downForSeconds: Math.round(openForMs / 1000),
          nextProbeAt: at(nextProbeInMs),
          ...misconfigurationFields(misconfiguration),
        },
        misconfiguration
          ? `${endpoint} still answers every request with HTTP ${misconfiguration.status}; likely a configuration error. ${settingsHint(misconfiguration)}`
          : `${endpoint} is still down; waiting`,
      );
    },
    closed({ endpoint, openForMs }) {
      metrics.breakerOpen.set({ endpoint: metricLabel }, 0);
      logger.warn({ endpoint, downForSeconds: Math.round(openForMs / 1000) }, `${endpoint} answers again; delivery resumed`);
    },
  };
}

/** Metrics and logs for the shared quota store: the fleet's use, and each fallback to this replica's share, logged once. */
export function quotaObserver(metrics: Metrics, logger: Logger): FleetBudgetObserver {
  const fallingBack = new Set<string>();
  return {
    fallback(on, budget, cause) {
      if (on) {
        fallingBack.add(budget);
        logger.warn(
          { budget, cause: describeError(cause).message },
          `the quota store (Redis) cannot be reached: ${budget} keep to this replica's share of the quota until it answers`,
        );
      } else {
        fallingBack.delete(budget);
        logger.info({ budget }, `the quota store (Redis) answers again: ${budget} take from the fleet's budget`);
      }
      metrics.quotaStoreFallback.set(fallingBack.size > 0 ? 1 : 0);
    },
    fleetUsed(used) {
      metrics.quotaFleetUsed.set(used);
    },
  };
}

/** The replies of a Target API client (single or bulk) as metrics, labelled with its route. */
function clientObserver(metrics: Metrics, route: 'single' | 'bulk'): TargetClientObserver {
  return {
    replied(method, status, durationMs) {
      metrics.requests.inc({ method, status: status === undefined ? 'error' : String(status) });
      metrics.requestDuration.observe({ route }, durationMs / 1000);
    },
  };
}
