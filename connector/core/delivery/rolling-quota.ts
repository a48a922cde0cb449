import type { Budget } from './budget.js';

/**
 * A rolling-window request budget (Target allows 1,000,000 updates per rolling 24 h).
 * A request counts from the moment it is taken until a full window after it *finished*: Target
 * counts it on arrival, which lies somewhere between the two, so the budget never runs ahead of
 * Target's own count. Finished requests are counted in buckets of 1/1000 of the window so memory
 * stays constant; a bucket is released a full window after its end, which keeps the count
 * conservative: no window of `windowMs` ever contains more than `limit` requests.
 */
export class RollingQuota implements Budget {
  private readonly bucketMs: number;
  private readonly buckets: Array<{ start: number; count: number }> = [];
  private used = 0;
  private inFlight = 0;
  private readonly limitOf: () => number;

  /** `limit` may be a function: a share of the account's quota that changes with the assignment. */
  constructor(
    limit: number | (() => number),
    readonly windowMs: number,
    private readonly now: () => number,
    readonly name = 'the single-update daily quota (delivery.daily_quota)',
  ) {
    if (typeof limit === 'number' && !(limit >= 1)) throw new RangeError('quota limit must be at least 1');
    this.limitOf = typeof limit === 'number' ? () => limit : limit;
    this.bucketMs = Math.max(1, Math.ceil(windowMs / 1000));
  }

  /** The most units any window may hold, now. */
  get limit(): number {
    return this.limitOf();
  }

  /** Units counted in the current window (in flight or answered). */
  inWindow(): number {
    this.expire(this.now());
    return this.used + this.inFlight;
  }

  /** Takes `n` units (requests, or bulk rows) from the budget; false when they do not fit. Call `finished(n)` after. */
  tryTake(n = 1): boolean {
    this.expire(this.now());
    if (this.used + this.inFlight + n > this.limit) return false;
    this.inFlight += n;
    return true;
  }

  /** Records that `n` taken units got their answer (or failed): their window starts now. */
  finished(n = 1): void {
    const t = this.now();
    this.inFlight -= n;
    const start = t - (t % this.bucketMs);
    const last = this.buckets[this.buckets.length - 1];
    if (last && last.start === start) last.count += n;
    else this.buckets.push({ start, count: n });
    this.used += n;
  }

  /** Requests left in the current window. */
  remaining(): number {
    this.expire(this.now());
    return Math.max(0, this.limit - this.used - this.inFlight);
  }

  /** Milliseconds until at least `n` units are available (0 when they are now); look again then. */
  msUntilAvailable(n = 1): number {
    const t = this.now();
    this.expire(t);
    if (this.used + this.inFlight + n <= this.limit) return 0;
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
