/**
 * A rolling-window request budget (Target allows 1,000,000 updates per rolling 24 h).
 * A request counts from the moment it is taken until a full window after it *finished*: Target
 * counts it on arrival, which lies somewhere between the two, so the budget never runs ahead of
 * Target's own count. Finished requests are counted in buckets of 1/1000 of the window so memory
 * stays constant; a bucket is released a full window after its end, which keeps the count
 * conservative: no window of `windowMs` ever contains more than `limit` requests.
 */
export class RollingQuota {
  private readonly bucketMs: number;
  private readonly buckets: Array<{ start: number; count: number }> = [];
  private used = 0;
  private inFlight = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(limit >= 1)) throw new RangeError('quota limit must be at least 1');
    this.bucketMs = Math.max(1, Math.ceil(windowMs / 1000));
  }

  /** Takes one request from the budget; false when the window is full. Call `finished` after it. */
  tryTake(): boolean {
    this.expire(this.now());
    if (this.used + this.inFlight >= this.limit) return false;
    this.inFlight++;
    return true;
  }

  /** Records that a taken request got its answer (or failed): its window starts now. */
  finished(): void {
    const t = this.now();
    this.inFlight--;
    const start = t - (t % this.bucketMs);
    const last = this.buckets[this.buckets.length - 1];
    if (last && last.start === start) last.count++;
    else this.buckets.push({ start, count: 1 });
    this.used++;
  }

  /** Requests left in the current window. */
  remaining(): number {
    this.expire(this.now());
    return Math.max(0, this.limit - this.used - this.inFlight);
  }

  /** Milliseconds until at least one request is available (0 when one is now). */
  msUntilAvailable(): number {
    const t = this.now();
    this.expire(t);
    if (this.used + this.inFlight < this.limit) return 0;
    const oldest = this.buckets[0];
    // Everything is still in flight: its window has not even started; look again shortly.
    if (!oldest) return Math.max(1, Math.min(100, this.windowMs));
    return Math.max(1, this.releaseTime(oldest.start) - t);
  }

  private releaseTime(bucketStart: number): number {
    return bucketStart + this.bucketMs + this.windowMs;
  }

  private expire(t: number): void {
    while (this.buckets.length > 0 && this.releaseTime((this.buckets[0] as { start: number }).start) <= t) {
      this.used -= (this.buckets.shift() as { count: number }).count;
    }
  }
}
