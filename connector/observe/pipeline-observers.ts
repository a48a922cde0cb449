import type { DispatchObserver } from '../dispatch/dispatcher.js';
import { describeError } from '../errors.js';
import type { SourceObserver } from '../source/kafka-source.js';
import type { Metrics } from './metrics.js';
import type { RunStats } from './run-stats.js';

/** Why a request is retried, as a low-cardinality label. */
function retryReason(error: unknown): string {
  const status = (error as { status?: number }).status;
  if (status === 429) return 'quota';
  if (status !== undefined) return `http_${Math.floor(status / 100)}xx`;
  return 'connection';
}

/** Wires dispatcher and source events to the Prometheus metrics and the run's stats. */
export function pipelineObservers(metrics: Metrics, stats: RunStats): { dispatch: DispatchObserver; source: SourceObserver } {
  return {
    dispatch: {
      requestStarted() {
        metrics.requestsInFlight.inc();
      },
      requestFinished(request, { status, error, durationMs }) {
        metrics.requestsInFlight.dec();
        metrics.requests.inc({ method: request.method, status: status === undefined ? 'error' : String(status) });
        metrics.requestDuration.observe(durationMs / 1000);
        stats.requestFinished(durationMs, error !== undefined);
      },
      retryScheduled(error) {
        metrics.retries.inc({ reason: retryReason(error) });
        stats.retries++;
      },
      coalesced() {
        metrics.updatesCoalesced.inc();
        stats.coalesced++;
      },
      quotaRemaining(remaining) {
        metrics.quotaRemaining.set(remaining);
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
      pending(count) {
        metrics.eventsPending.set(count);
      },
      lag(topic, partition, lag) {
        metrics.consumerLag.set({ topic, partition: String(partition) }, lag);
      },
    },
  };
}
