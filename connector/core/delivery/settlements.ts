/**
 * The settlements one lane's job or queued run covers. A bulk backfill holds every event until
 * its row's batch reports, a million of them for one file: an event that parks (its update waits
 * for a batch) and needs nothing but its position to end hands itself over as two numbers under
 * its partition's host, instead of staying an object. Pure.
 */
import type { ParkedHost, ParkedSink, Settlement } from './route.js';
import type { UpdateResult } from './send-result.js';

/** The parked events of one partition (host): offset and fetch time of each, interleaved. */
interface ParkedGroup {
  host: ParkedHost;
  positions: number[];
}

export class Settlements implements ParkedSink {
  private settlements: Settlement[] = [];
  /**
   * The parked events of the first host, kept in the list itself: a job's events nearly always
   * come from one partition, and most profiles of a backfill have a few events, so a group object
   * and two arrays each would cost more than the positions.
   */
  private host: ParkedHost | undefined;
  private positions: number[] | undefined;
  /** Parked events of further hosts (another partition or topic, or a new lease of the same). */
  private others: ParkedGroup[] | undefined;
  private parkedCount = 0;

  /** One list holding everything of `lists` (each is left as it was; do not use them again). */
  static merged(lists: readonly Settlements[]): Settlements {
    if (lists.length === 1) return lists[0] as Settlements;
    const merged = new Settlements();
    for (const list of lists) {
      for (const settlement of list.settlements) merged.settlements.push(settlement);
      list.eachGroup((host, positions) => {
        for (let i = 0; i < positions.length; i += 2) merged.add(host, positions[i] as number, positions[i + 1] as number);
      });
    }
    return merged;
  }

  /** How many updates the list settles. */
  get size(): number {
    return this.settlements.length + this.parkedCount;
  }

  /** Adds an update; one that waits long (`parked`: behind or in a bulk row) parks its event, kept as its position when it can be. */
  push(settlement: Settlement, parked: boolean): void {
    if (!parked || !settlement.park?.(this)) this.settlements.push(settlement);
  }

  /** Every update of the list now waits long (its job became a bulk row): each event parks. */
  parkAll(): void {
    const kept: Settlement[] = [];
    for (const settlement of this.settlements) if (!settlement.park?.(this)) kept.push(settlement);
    this.settlements = kept;
  }

  /** Keeps a parked event as its position (see ParkedSink). */
  add(host: ParkedHost, offset: number, fetchedAt: number): void {
    this.parkedCount++;
    if (this.host === undefined || this.host === host) {
      this.host = host;
      if (this.positions) this.positions.push(offset, fetchedAt);
      else this.positions = [offset, fetchedAt];
      return;
    }
    const others = (this.others ??= []);
    const group = others.find((g) => g.host === host);
    if (group) group.positions.push(offset, fetchedAt);
    else others.push({ host, positions: [offset, fetchedAt] });
  }

  /** Settles every update of the list with `result`, once: the list is empty afterwards. */
  settle(result: UpdateResult): void {
    const settlements = this.settlements;
    const groups: ParkedGroup[] = [];
    this.eachGroup((host, positions) => groups.push({ host, positions }));
    this.settlements = [];
    this.host = undefined;
    this.positions = undefined;
    this.others = undefined;
    this.parkedCount = 0;
    for (const settlement of settlements) settlement.settle(result);
    for (const { host, positions } of groups) {
      for (let i = 0; i < positions.length; i += 2) host.settleParked(positions[i] as number, positions[i + 1] as number, result);
    }
  }

  private eachGroup(visit: (host: ParkedHost, positions: number[]) => void): void {
    if (this.host && this.positions) visit(this.host, this.positions);
    for (const group of this.others ?? []) visit(group.host, group.positions);
  }
}
