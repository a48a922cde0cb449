/**
 * The acknowledged contiguous prefix of one partition. Offsets are tracked in fetch order
 * (strictly increasing, possibly with gaps from compaction or transaction markers) and may be
 * acknowledged in any order; only the prefix in which every tracked offset is acknowledged may
 * be committed.
 *
 * A bulk backfill holds a million events that its one batch acknowledges in the order of its
 * rows, far ahead of the prefix: every tracked offset costs one number and one flag byte until it
 * is committed, however it is acknowledged.
 */
export class PartitionOffsets {
  /** Tracked offsets not yet committed, increasing, from index `first`; `acked` holds a flag per index. */
  private offsets: number[] = [];
  private acked = new Uint8Array(64);
  private first = 0;
  /** Index of the first offset outside the acknowledged prefix (or the end). */
  private prefixEnd = 0;
  private lastTracked = -1;
  private lastContiguous: number | undefined;

  /**
   * Registers an offset handed to delivery. Returns false for an offset at or below the last one
   * tracked: the client fetched it again, and it is already being delivered under this epoch.
   */
  track(offset: number): boolean {
    if (offset <= this.lastTracked) return false;
    this.lastTracked = offset;
    if (this.offsets.length === this.acked.length) {
      const grown = new Uint8Array(this.acked.length * 2);
      grown.set(this.acked);
      this.acked = grown;
    }
    this.offsets.push(offset);
    return true;
  }

  /** Marks a tracked offset as done (delivered, filtered or dead-lettered); others are ignored. */
  ack(offset: number): void {
    const index = this.indexOf(offset);
    if (index === undefined) return;
    this.acked[index] = 1;
    const { offsets, acked } = this;
    let end = this.prefixEnd;
    while (end < offsets.length && acked[end] === 1) end++;
    if (end === this.prefixEnd) return;
    this.prefixEnd = end;
    this.lastContiguous = offsets[end - 1];
  }

  /** The offset to commit (Kafka wants the next offset to read), or undefined if none is done. */
  committable(): number | undefined {
    return this.lastContiguous === undefined ? undefined : this.lastContiguous + 1;
  }

  /** Records that Kafka holds `next` as committed; returns how many events that released. */
  committed(next: number): number {
    const start = this.first;
    let first = start;
    while (first < this.prefixEnd && (this.offsets[first] as number) < next) first++;
    this.first = first;
    // Drop the committed head once it is most of the array, so that both stay proportional to what is held.
    if (first > 1024 && first * 2 > this.offsets.length) {
      this.offsets = this.offsets.slice(first);
      const acked = new Uint8Array(Math.max(64, this.offsets.length * 2));
      acked.set(this.acked.subarray(first, first + this.offsets.length));
      this.acked = acked;
      this.prefixEnd -= first;
      this.first = 0;
    }
    return first - start;
  }

  /** How many tracked offsets are not yet part of the committable prefix. */
  outstanding(): number {
    return this.offsets.length - this.prefixEnd;
  }

  /** Index of a tracked offset outside the prefix: the prefix's end (acknowledgements in order), else a binary search. */
  private indexOf(offset: number): number | undefined {
    const { offsets } = this;
    let low = this.prefixEnd;
    if (offsets[low] === offset) return low;
    let high = offsets.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const found = offsets[middle] as number;
      if (found === offset) return middle;
      if (found < offset) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
  }
}
