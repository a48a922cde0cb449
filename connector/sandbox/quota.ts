/** A rolling-window request budget, like Target's per-account daily update quota. */

export type QuotaDecision = { granted: true } | { granted: false; retryAfterSeconds: number };

/** Grants at most `limit` requests in any `windowMs` window; `limit` undefined means unlimited. */
export class RollingQuota {
  // Grant times in ascending order; entries before `head` have left the window.
  private grants: number[] = [];
  private head = 0;

  constructor(
    private readonly limit: number | undefined,
    private readonly windowMs: number,
  ) {}

  /** Spends one unit of budget at `now`, or says how many whole seconds until one returns. */
  tryTake(now: number): QuotaDecision {
    if (this.limit === undefined) return { granted: true };
    while (this.head < this.grants.length && (this.grants[this.head] ?? 0) <= now - this.windowMs) this.head++;
    this.compact();
    if (this.grants.length - this.head >= this.limit) {
      const oldest = this.grants[this.head] ?? now;
      return { granted: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000)) };
    }
    this.grants.push(now);
    return { granted: true };
  }

  /** Forgets every grant. */
  clear(): void {
    this.grants = [];
    this.head = 0;
  }

  // Dropping expired entries in bulk keeps eviction O(1) amortised instead of shifting per grant.
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.grants.length) {
      this.grants = this.grants.slice(this.head);
      this.head = 0;
    }
  }
}
