/**
 * The retry timers of requests that failed for their own sake (the endpoint serves others): each
 * waits its backoff without holding a concurrency slot. Counts what waits, and a stop hands every
 * waiting item back at once instead of sending it.
 */
import type { Clock } from '../clock.js';

export class RetryTimers<T> {
  private readonly timers = new Map<T, () => void>();

  constructor(private readonly clock: Clock) {}

  /** Items waiting for their retry. */
  get size(): number {
    return this.timers.size;
  }

  /** Calls `due(item)` after `delayMs`, unless cancelled first. */
  schedule(item: T, delayMs: number, due: (item: T) => void): void {
    const cancel = this.clock.schedule(delayMs, () => {
      this.timers.delete(item);
      due(item);
    });
    this.timers.set(item, cancel);
  }

  /** Cancels every timer; returns the items that waited, oldest first. */
  cancelAll(): T[] {
    const items = [...this.timers.keys()];
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
    return items;
  }
}
