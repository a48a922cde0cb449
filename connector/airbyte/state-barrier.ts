/**
 * The ordering rule of `write`: a STATE may be echoed only once every record read before it has
 * settled (delivered, filtered or failed and reported), and STATEs leave in the order they came.
 * Records settle in any order (different profiles are delivered concurrently), so the barrier
 * tracks the lowest unsettled record, like an offset tracker tracks the committable offset.
 */
export class StateBarrier<S> {
  /** Sequence number the next record gets. */
  private next = 0;
  /** Every record below this sequence number has settled. */
  private settledBelow = 0;
  private readonly unsettled = new Set<number>();
  /** STATEs not yet released, each with how many records were read before it. */
  private readonly held: { after: number; state: S }[] = [];

  /** Records started and not yet settled. */
  get inFlight(): number {
    return this.unsettled.size;
  }

  /** Registers a record read from the input; returns the number to settle it with. */
  recordStarted(): number {
    const seq = this.next++;
    this.unsettled.add(seq);
    return seq;
  }

  /** Marks a record settled; returns the STATEs this releases, in input order. */
  recordSettled(seq: number): S[] {
    this.unsettled.delete(seq);
    return this.release();
  }

  /** Registers a STATE read from the input; returns the STATEs releasable now (it included when nothing is in flight before it). */
  stateReceived(state: S): S[] {
    this.held.push({ after: this.next, state });
    return this.release();
  }

  private release(): S[] {
    while (this.settledBelow < this.next && !this.unsettled.has(this.settledBelow)) this.settledBelow++;
    let count = 0;
    while (count < this.held.length && (this.held[count] as { after: number }).after <= this.settledBelow) count++;
    return this.held.splice(0, count).map((entry) => entry.state);
  }
}
