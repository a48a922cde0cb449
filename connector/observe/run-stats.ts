import type { EventOutcome } from '../core/pipeline/pipeline.js';

/** A fixed-size uniform sample of latencies (reservoir sampling), so long runs stay bounded. */
class LatencySample {
  private readonly values: number[] = [];
  private seen = 0;
  constructor(private readonly capacity = 10_000) {}

  add(ms: number): void {
    this.seen++;
    if (this.values.length < this.capacity) this.values.push(ms);
    else {
      const i = Math.floor(Math.random() * this.seen);
      if (i < this.capacity) this.values[i] = ms;
    }
  }

  quantile(q: number): number | undefined {
    if (this.values.length === 0) return undefined;
    const sorted = [...this.values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  }
}

/** A point-in-time summary of a run, for the progress line, the demo and benchmarks. */
export interface RunSummary {
  elapsedMs: number;
  consumed: number;
  delivered: number;
  filtered: number;
  deadLettered: number;
  requests: number;
  failedRequests: number;
  retries: number;
  coalesced: number;
  eventsPerSecond: number;
  eventLatencyMs: { p50?: number; p99?: number };
  requestLatencyMs: { p50?: number; p99?: number };
}

/** Counts what a run did; fed by the source and dispatcher observers. */
export class RunStats {
  private readonly started = performance.now();
  consumed = 0;
  delivered = 0;
  filtered = 0;
  deadLettered = 0;
  requests = 0;
  failedRequests = 0;
  retries = 0;
  coalesced = 0;
  private readonly eventLatency = new LatencySample();
  private readonly requestLatency = new LatencySample();

  /** Records an event's end and how long it was held from fetch to settlement. */
  eventSettled(outcome: EventOutcome, heldMs: number): void {
    if (outcome.kind === 'delivered') this.delivered++;
    else if (outcome.kind === 'filtered') this.filtered++;
    else if (outcome.kind === 'failed') this.deadLettered++;
    this.eventLatency.add(heldMs);
  }

  /** Records one request's answer time and whether it failed. */
  requestFinished(durationMs: number, failed: boolean): void {
    this.requests++;
    if (failed) this.failedRequests++;
    this.requestLatency.add(durationMs);
  }

  /** The figures so far. */
  summary(): RunSummary {
    const elapsedMs = performance.now() - this.started;
    const settled = this.delivered + this.filtered + this.deadLettered;
    return {
      elapsedMs,
      consumed: this.consumed,
      delivered: this.delivered,
      filtered: this.filtered,
      deadLettered: this.deadLettered,
      requests: this.requests,
      failedRequests: this.failedRequests,
      retries: this.retries,
      coalesced: this.coalesced,
      eventsPerSecond: elapsedMs > 0 ? (settled * 1000) / elapsedMs : 0,
      eventLatencyMs: { p50: this.eventLatency.quantile(0.5), p99: this.eventLatency.quantile(0.99) },
      requestLatencyMs: { p50: this.requestLatency.quantile(0.5), p99: this.requestLatency.quantile(0.99) },
    };
  }
}
