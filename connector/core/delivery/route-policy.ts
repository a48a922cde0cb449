/**
 * When updates go by bulk: never (`off`), always (`always`, e.g. a backfill), or while the
 * consumer is behind (`auto`): once its backlog reaches `enterLag` events, or exceeds what the
 * single-update quota has left (the quota would run out before the backlog clears). It returns
 * to single updates, for low latency, once the backlog is down to `exitLag` and the quota could
 * carry it — the gap between the two thresholds keeps the route from flapping.
 */
export type BulkMode = 'off' | 'auto' | 'always';

export interface RoutePolicyOptions {
  mode: BulkMode;
  /** Backlog (events behind, all owned partitions) from which `auto` switches to bulk. */
  enterLag: number;
  /** Backlog at or below which `auto` returns to single updates. */
  exitLag: number;
}

export class RoutePolicy {
  private bulkOn: boolean;
  private backlog = 0;
  private readonly listeners: Array<(bulk: boolean) => void> = [];

  constructor(private readonly options: RoutePolicyOptions) {
    this.bulkOn = options.mode === 'always';
  }

  /** Whether updates that can go by bulk should, now. */
  get bulk(): boolean {
    return this.bulkOn;
  }

  /** True while the last backlog seen is above `exitLag`: a backlog is still being read, whatever the mode. */
  get readingBacklog(): boolean {
    return this.backlog > this.options.exitLag;
  }

  /** Calls `listener` whenever the route changes. */
  onChange(listener: (bulk: boolean) => void): void {
    this.listeners.push(listener);
  }

  /** Takes the consumer's backlog and the single-update quota left; may switch the route. */
  observe(backlog: number, quotaRemaining: number): void {
    this.backlog = backlog;
    if (this.options.mode !== 'auto') return;
    const { enterLag, exitLag } = this.options;
    const quotaShort = backlog > exitLag && backlog > quotaRemaining;
    const next = this.bulkOn ? backlog > exitLag || quotaShort : backlog >= enterLag || quotaShort;
    if (next === this.bulkOn) return;
    this.bulkOn = next;
    for (const listener of this.listeners) listener(next);
  }
}
