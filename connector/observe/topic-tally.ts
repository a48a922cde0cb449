/**
 * Per-topic event counts kept in plain numbers on the hot path and handed to a prom-client counter
 * when it is scraped: a labelled `inc` hashes its labels on every call, once per event.
 */
import type { Counter } from 'prom-client';

export class TopicTally {
  private readonly counts = new Map<string, number>();

  /** Counts one event of `topic`. */
  add(topic: string): void {
    this.counts.set(topic, (this.counts.get(topic) ?? 0) + 1);
  }

  /** Moves what was counted since the last scrape into `counter` (called from its `collect`). */
  drainInto(counter: Counter<'topic'>): void {
    for (const [topic, n] of this.counts) if (n > 0) counter.inc({ topic }, n);
    this.counts.clear();
  }
}
