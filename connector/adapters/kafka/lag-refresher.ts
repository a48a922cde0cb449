/**
 * The consumer lag as Kafka itself reports it: each owned partition's committed offset against
 * its log end, read on a timer whatever the fetch loop does (paused for an outage, the quota or
 * backpressure) and soon after each commit, so that it reads 0 once everything is committed.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import type { PartitionLag } from './group-lag.js';

/** Where the lag goes (the `tps_consumer_lag` gauge). */
export interface LagObserver {
  /** The partition is `lag` messages behind its end, as Kafka reports now. */
  lag(topic: string, partition: number, lag: number): void;
  /** This member no longer owns the partition: its figure is no longer this member's to report. */
  released(topic: string, partition: number): void;
}

export interface LagRefresherOptions {
  /** Reads the group's lag on every partition of its topics (groupLag). */
  read(): Promise<PartitionLag[]>;
  observer: LagObserver;
  /** How often the lag is read while nothing else asks. */
  everyMs: number;
  /** The least time between two reads, however often commits ask for one. */
  minGapMs: number;
  logger: Pick<Logger, 'debug'>;
  /** Timers; by default the process's own, which never keep it alive. */
  clock?: Clock;
}

/** The process's timers, unreferenced: a pending lag read never keeps the process alive. */
const backgroundClock: Clock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return () => clearTimeout(timer);
  },
};

const keyOf = (topic: string, partition: number) => `${partition}:${topic}`;

/** Reads the lag of the partitions this member owns and hands it to the observer; never throws. */
export class LagRefresher {
  private readonly clock: Clock;
  private readonly owned = new Map<string, { topic: string; partition: number }>();
  private cancelTimer: (() => void) | undefined;
  private dueAt = Infinity;
  private reading = false;
  /** A read was asked for while one was running: one more follows it. */
  private again = false;
  private lastReadAt = -Infinity;
  private closed = false;

  constructor(private readonly options: LagRefresherOptions) {
    this.clock = options.clock ?? backgroundClock;
  }

  /** Takes a new assignment: partitions no longer owned are released, the lag is read at once. */
  own(partitions: Array<{ topic: string; partition: number }>): void {
    if (this.closed) return;
    const next = new Map(partitions.map((p) => [keyOf(p.topic, p.partition), { topic: p.topic, partition: p.partition }]));
    for (const [key, { topic, partition }] of this.owned) if (!next.has(key)) this.options.observer.released(topic, partition);
    this.owned.clear();
    for (const [key, p] of next) this.owned.set(key, p);
    if (this.reading) this.again = true;
    else this.scheduleIn(0);
  }

  /** Asks for a read soon (a commit moved the committed offsets), no sooner than `minGapMs` after the last one. */
  refreshSoon(): void {
    if (this.closed) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    this.scheduleIn(Math.max(0, this.lastReadAt + this.options.minGapMs - this.clock.now()));
  }

  /** Stops reading; a read in flight reports nothing. */
  close(): void {
    this.closed = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  /** Moves the next read to `ms` from now, unless one is due sooner. */
  private scheduleIn(ms: number): void {
    const at = this.clock.now() + ms;
    if (at >= this.dueAt) return;
    this.cancelTimer?.();
    this.dueAt = at;
    this.cancelTimer = this.clock.schedule(ms, () => {
      this.cancelTimer = undefined;
      this.dueAt = Infinity;
      void this.refresh();
    });
  }

  private async refresh(): Promise<void> {
    if (this.closed) return;
    this.reading = true;
    this.again = false;
    this.lastReadAt = this.clock.now();
    try {
      if (this.owned.size > 0) {
        const lags = await this.options.read();
        // Owned is read after the answer: a partition revoked meanwhile must not come back.
        if (!this.closed)
          for (const { topic, partition, lag } of lags) if (this.owned.has(keyOf(topic, partition))) this.options.observer.lag(topic, partition, lag);
      }
    } catch (error) {
      // The gauge keeps its last figure; the next read tries again.
      this.options.logger.debug({ err: error }, 'could not read the consumer lag from Kafka');
    } finally {
      this.reading = false;
    }
    if (this.closed) return;
    if (this.again) this.refreshSoon();
    this.scheduleIn(this.options.everyMs);
  }
}
