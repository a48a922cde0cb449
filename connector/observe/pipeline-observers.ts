import type { Logger } from 'pino';
import type { BreakerObserver } from '../dispatch/circuit-breaker.js';
import type { DispatchObserver } from '../dispatch/dispatcher.js';
import { describeError } from '../errors.js';
import type { SourceObserver } from '../source/kafka-source.js';
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

/** Wires dispatcher and source events to the Prometheus metrics, the run's stats and warnings. */
export function pipelineObservers(
  metrics: Metrics,
  stats: RunStats,
  logger?: Logger,
): { dispatch: DispatchObserver; source: SourceObserver; truncations: TruncationReport } {
  const retryWarning = new Throttle(WARN_EVERY_MS);
  const truncations = new TruncationReport(logger ?? { warn: () => {} }, (attribute) => metrics.valuesTruncated.inc({ attribute }));
  let retriesSinceWarning = 0;
  return {
    truncations,
    dispatch: {
      requestStarted() {
        metrics.requestsInFlight.inc();
      },
      requestFinished(request, { error, durationMs }) {
        metrics.requestsInFlight.dec();
        const status = error === undefined ? 200 : statusOf(error);
        metrics.requests.inc({ method: request.method, status: status === undefined ? 'error' : String(status) });
        metrics.requestDuration.observe(durationMs / 1000);
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
      quotaRemaining(remaining) {
        metrics.quotaRemaining.set(remaining);
      },
      retryBacklog(profiles) {
        metrics.retryBacklog.set(profiles);
      },
    },
    source: {
      consumed(topic) {
        metrics.eventsConsumed.inc({ topic });
        stats.consumed++;
      },
      settled(topic, outcome, heldMs) {
        if (outcome.kind === 'delivered') metrics.eventsDelivered.inc({ topic });
        else if (outcome.kind === 'filtered') metrics.eventsFiltered.inc({ topic });
        else if (outcome.kind === 'failed') metrics.eventsDeadLettered.inc({ topic, reason: describeError(outcome.error).code });
        stats.eventSettled(outcome, heldMs);
      },
      lag(topic, partition, lag) {
        metrics.consumerLag.set({ topic, partition: String(partition) }, lag);
      },
      truncated(attributes) {
        truncations.record(attributes);
      },
    },
  };
}

/**
 * Logs and counts an endpoint's outages: one warning when its breaker opens (with the cause and
 * the next probe), one line a minute while it stays open, and one when it closes.
 */
export function breakerObserver(metrics: Metrics, logger: Logger, metricLabel: string): BreakerObserver {
  const stillDown = new Throttle(WARN_EVERY_MS);
  const at = (inMs: number) => new Date(Date.now() + inMs).toISOString();
  return {
    opened({ endpoint, cause, nextProbeInMs }) {
      metrics.breakerOpen.set({ endpoint: metricLabel }, 1);
      metrics.breakerOpened.inc({ endpoint: metricLabel });
      stillDown.ready();
      logger.warn(
        { endpoint, cause: describeError(cause).message, nextProbeAt: at(nextProbeInMs) },
        `${endpoint} is failing for every request: delivery and fetching pause until it answers a probe; nothing is dead-lettered for an outage`,
      );
    },
    probeFailed({ endpoint, cause, nextProbeInMs, openForMs }) {
      if (!stillDown.ready()) return;
      logger.warn(
        { endpoint, cause: describeError(cause).message, downForSeconds: Math.round(openForMs / 1000), nextProbeAt: at(nextProbeInMs) },
        `${endpoint} is still down; waiting`,
      );
    },
    closed({ endpoint, openForMs }) {
      metrics.breakerOpen.set({ endpoint: metricLabel }, 0);
      logger.warn({ endpoint, downForSeconds: Math.round(openForMs / 1000) }, `${endpoint} answers again; delivery resumed`);
    },
  };
}
