/**
 * The backlog the route decides on (bulk while far behind, single updates once caught up): the
 * source says how far behind each partition's end it fetched, and the sum over the owned
 * partitions goes to the decision. Metrics read lag elsewhere (the group's committed lag).
 */
import type { AssignmentFollower, SourcePartition } from './source.js';

/** Told, by the source, how many events lie between what it fetches and each partition's end. */
export interface LagSignal {
  behind(stream: string, partition: number, events: number): void;
}

/** What decides on the backlog: the route policy (bulk while far behind, unless the quota would not last). */
export interface BacklogDecision {
  observe(backlog: number, quotaRemaining: number): void;
}

/** Sums the partitions' backlogs and hands the total to the route decision; forgets them at every new assignment. */
export class Backlog implements LagSignal, AssignmentFollower {
  private readonly lags = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly decision: BacklogDecision,
    private readonly quota: { remaining(): number },
  ) {}

  /** Records one partition's backlog and decides on the new total. */
  behind(stream: string, partition: number, events: number): void {
    const key = `${partition}:${stream}`;
    this.total += events - (this.lags.get(key) ?? 0);
    this.lags.set(key, events);
    this.decision.observe(this.total, this.quota.remaining());
  }

  /** A new assignment: what was behind before is not this member's any more. */
  owns(_partitions: SourcePartition[]): void {
    this.lags.clear();
    this.total = 0;
  }
}
