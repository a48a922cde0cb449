/**
 * The acknowledged contiguous prefix of one partition. Offsets are tracked in fetch order
 * (strictly increasing, possibly with gaps from compaction or transaction markers) and may be
 * acknowledged in any order; only the prefix in which every tracked offset is acknowledged may
 * be committed.
 */
export class PartitionOffsets {
  // A queue of tracked-but-not-yet-committable offsets; `head` avoids O(n) shifts.
  private readonly queue: number[] = [];
  private head = 0;
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
    this.queue.push(offset);
    return true;
  }

  /** Marks a tracked offset as done (delivered, filtered or dead-lettered). */
  ack(offset: number): void {
    this.acked.add(offset);
    while (this.head < this.queue.length && this.acked.has(this.queue[this.head] as number)) {
      const done = this.queue[this.head] as number;
      this.acked.delete(done);
      this.lastContiguous = done;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }

  /** The offset to commit (Kafka wants the next offset to read), or undefined if none is done. */
  committable(): number | undefined {
    return this.lastContiguous === undefined ? undefined : this.lastContiguous + 1;
  }

  /** How many tracked offsets are not yet part of the committable prefix. */
  outstanding(): number {
    return this.queue.length - this.head;
  }
}
