/**
 * The settlements one lane's job or queued run covers. A bulk backfill holds every event until
 * its row's batch reports, a million of them for one file: an event that parks (its update waits
 * for a batch) and needs nothing but its position to end hands itself over as two numbers under
 * its partition's host, instead of staying an object. Pure.
 */
import type { ParkedHost, ParkedSink, Settlement } from './route.js';
import type { UpdateResult } from './send-result.js';

/** The parked events of one partition (host): their offsets and fetch times, index by index. */
interface ParkedGroup {
  host: ParkedHost;
  offsets: number[];
  fetchedAts: number[];
}

export class Settlements implements ParkedSink {
  private settlements: Settlement[] = [];
  /** Created at the first parked position: most lists (single updates) never hold one. */
  private groups: ParkedGroup[] | undefined;
  private parkedCount = 0;

  /** A list holding `settlement`, or none. */
  static of(settlement?: Settlement): Settlements {
    const list = new Settlements();
    if (settlement) list.settlements.push(settlement);
    return list;
  }

  /** One list holding everything of `lists` (each is left as it was; do not use them again). */
  static merged(lists: readonly Settlements[]): Settlements {
    if (lists.length === 1) return lists[0] as Settlements;
    const merged = new Settlements();
    for (const list of lists) {
      for (const settlement of list.settlements) merged.settlements.push(settlement);
      for (const group of list.groups ?? []) {
        for (let i = 0; i < group.offsets.length; i++) merged.add(group.host, group.offsets[i] as number, group.fetchedAts[i] as number);
      }
    }
    return merged;
  }

  /** How many updates the list settles. */
  get size(): number {
    return this.settlements.length + this.parkedCount;
  }

  /** Adds an update that is not waiting long. */
  push(settlement: Settlement): void {
    this.settlements.push(settlement);
  }

  /** Adds an update that waits long (behind or in a bulk row): its event parks, and is kept as its position when it can be. */
  pushParked(settlement: Settlement): void {
    if (!settlement.park?.(this)) this.settlements.push(settlement);
  }

  /** Every update of the list now waits long (its job became a bulk row): each event parks. */
  parkAll(): void {
    const kept: Settlement[] = [];
    for (const settlement of this.settlements) if (!settlement.park?.(this)) kept.push(settlement);
    this.settlements = kept;
  }

  /** Keeps a parked event as its position (see ParkedSink). */
  add(host: ParkedHost, offset: number, fetchedAt: number): void {
    const groups = (this.groups ??= []);
    let group = groups[groups.length - 1];
    // A job's events mostly come from one partition; look further only when the last group differs.
    if (group?.host !== host) group = groups.find((g) => g.host === host);
    if (!group) {
      group = { host, offsets: [], fetchedAts: [] };
      groups.push(group);
    }
    group.offsets.push(offset);
    group.fetchedAts.push(fetchedAt);
    this.parkedCount++;
  }

  /** Settles every update of the list with `result`, once: the list is empty afterwards. */
  settle(result: UpdateResult): void {
    const { settlements, groups } = this;
    this.settlements = [];
    this.groups = undefined;
    this.parkedCount = 0;
    for (const settlement of settlements) settlement.settle(result);
    for (const { host, offsets, fetchedAts } of groups ?? []) {
      for (let i = 0; i < offsets.length; i++) host.settleParked(offsets[i] as number, fetchedAts[i] as number, result);
    }
  }
}
