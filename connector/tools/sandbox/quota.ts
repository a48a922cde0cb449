/** A rolling-window budget, like Target's per-account daily update quota. */

export type QuotaDecision = { granted: true } | { granted: false; retryAfterSeconds: number };

/** Grants at most `limit` units in any `windowMs` window; `limit` undefined means unlimited. */
export class RollingQuota {
  // Grants in ascending time order, with the units each took; entries before `head` have left the window.
  private times: number[] = [];
  private units: number[] = [];
  private head = 0;
  private inWindow = 0;

  constructor(
    private readonly limit: number | undefined,
    private readonly windowMs: number,
  ) {}

  /**
   * Spends `units` (one request, or the rows of a batch) at `now`, or says how many whole seconds
   * until enough budget returns. A request for more than `limit` units is never granted.
   */
  tryTake(now: number, units = 1): QuotaDecision {
    if (this.limit === undefined) return { granted: true };
    while (this.head < this.times.length && (this.times[this.head] ?? 0) <= now - this.windowMs) {
      this.inWindow -= this.units[this.head] ?? 0;
      this.head++;
    }
    this.compact();
    if (this.inWindow + units > this.limit) return { granted: false, retryAfterSeconds: this.secondsUntilFree(now, units) };
    this.times.push(now);
    this.units.push(units);
    this.inWindow += units;
    return { granted: true };
  }

  /** Forgets every grant. */
  clear(): void {
    this.times = [];
    this.units = [];
    this.head = 0;
    this.inWindow = 0;
  }

  // The oldest grants leave first: budget for `units` returns when enough of them have left.
  private secondsUntilFree(now: number, units: number): number {
    const excess = this.inWindow + units - (this.limit ?? 0);
    let freed = 0;
    let at = now + this.windowMs;
    for (let i = this.head; i < this.times.length; i++) {
      freed += this.units[i] ?? 0;
      if (freed >= excess) {
        at = (this.times[i] ?? now) + this.windowMs;
        break;
      }
    }
    return Math.max(1, Math.ceil((at - now) / 1000));
  }

  // Dropping expired entries in bulk keeps eviction O(1) amortised instead of shifting per grant.
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.units = this.units.slice(this.head);
      this.head = 0;
    }
  }
}
