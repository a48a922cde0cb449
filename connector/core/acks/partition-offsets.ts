/** A FIFO of increasing offsets with O(1) amortised removal from the front. */
class OffsetQueue {
  private items: number[] = [];
  private head = 0;

  push(offset: number): void {
    this.items.push(offset);
  }

  peek(): number | undefined {
    return this.items[this.head];
  }

  shift(): number | undefined {
    const v = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }

  get length(): number {
    return this.items.length - this.head;
  }
}

/**
 * The acknowledged contiguous prefix of one partition. Offsets are tracked in fetch order
 * (strictly increasing, possibly with gaps from compaction or transaction markers) and may be
 * acknowledged in any order; only the prefix in which every tracked offset is acknowledged may
 * be committed.
 */
export class PartitionOffsets {
  private readonly inProgress = new OffsetQueue();
  private readonly doneUncommitted = new OffsetQueue();
  private readonly acked = new Set<number>();
  private lastTracked = -1;
  private lastContiguous: number | undefined;

  /**
   * Registers an offset handed to delivery. Returns false for an offset at or below the last one
   * tracked: the client fetched it again, and it is already being delivered under this epoch.
   */
  track(offset: number): boolean {
    if (offset <= this.lastTracked) return false;
    this.lastTracked = offset;
    this.inProgress.push(offset);
    return true;
  }

  /** Marks a tracked offset as done (delivered, filtered or dead-lettered). */
  ack(offset: number): void {
    this.acked.add(offset);
    for (let next = this.inProgress.peek(); next !== undefined && this.acked.has(next); next = this.inProgress.peek()) {
      this.acked.delete(next);
      this.lastContiguous = next;
      this.doneUncommitted.push(next);
      this.inProgress.shift();
    }
  }

  /** The offset to commit (Kafka wants the next offset to read), or undefined if none is done. */
  committable(): number | undefined {
    return this.lastContiguous === undefined ? undefined : this.lastContiguous + 1;
  }

  /** Records that Kafka holds `next` as committed; returns how many events that released. */
  committed(next: number): number {
    let released = 0;
    for (let o = this.doneUncommitted.peek(); o !== undefined && o < next; o = this.doneUncommitted.peek()) {
      this.doneUncommitted.shift();
      released++;
    }
    return released;
  }

  /** How many tracked offsets are not yet part of the committable prefix. */
  outstanding(): number {
    return this.inProgress.length;
  }
}
