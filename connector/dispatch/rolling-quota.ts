/**
 * A rolling-window request budget (Target allows 1,000,000 updates per rolling 24 h).
 * Requests are counted in buckets of 1/1000 of the window so memory stays constant; a bucket
 * is only released a full window after its *end*, which makes the count conservative: no window
 * of `windowMs` ever contains more than `limit` requests.
 */
export class RollingQuota {
  private readonly bucketMs: number;
  private readonly buckets: Array<{ start: number; count: number }> = [];
  private used = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!(limit >= 1)) throw new RangeError('quota limit must be at least 1');
    this.bucketMs = Math.max(1, Math.ceil(windowMs / 1000));
  }

  /** Takes one request from the budget; false when the window is full. */
  tryTake(): boolean {
    const t = this.now();
    this.expire(t);
    if (this.used >= this.limit) return false;
    const start = t - (t % this.bucketMs);
    const last = this.buckets[this.buckets.length - 1];
    if (last && last.start === start) last.count++;
    else this.buckets.push({ start, count: 1 });
    this.used++;
    return true;
  }

  /** Requests left in the current window. */
  remaining(): number {
    this.expire(this.now());
    return this.limit - this.used;
  }

  /** Milliseconds until at least one request is available (0 when one is now). */
  msUntilAvailable(): number {
    const t = this.now();
    this.expire(t);
    if (this.used < this.limit) return 0;
    const oldest = this.buckets[0] as { start: number };
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
