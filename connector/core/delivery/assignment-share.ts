/**
 * This member's share of the account's quota when nothing coordinates the fleet: the quota ×
 * the partitions it owns ÷ all partitions of the mapped topics, recomputed on every assignment.
 *
 * Shares at any one moment add up to at most the quota, but sends stay in the window after the
 * share that allowed them changed: a member that grew could otherwise spend what a member that
 * shrank had already spent. So the limit is the smallest share held within the last window: a
 * shrink applies at once (recent sends count against it), a growth once the window has passed.
 * Then, for any window, each member's sends fit a share it held at one common moment of it,
 * and those add up to at most the quota.
 */
import type { Clock } from '../clock.js';

export class AssignmentShare {
  private current: number | undefined;
  /** Shares held before the current one, with when each ended. */
  private readonly past: Array<{ share: number; endedAt: number }> = [];

  constructor(
    private readonly quota: number,
    private readonly windowMs: number,
    private readonly clock: Clock,
  ) {}

  /** This member owns `owned` of the `total` partitions from now on. */
  assign(owned: number, total: number): void {
    const share = total > 0 ? Math.floor((this.quota * owned) / total) : 0;
    if (this.current !== undefined) this.past.push({ share: this.current, endedAt: this.clock.now() });
    this.current = share;
  }

  /** The share of the latest assignment (0 before any). */
  get share(): number {
    return this.current ?? 0;
  }

  /** The most this member may have in any window now: the smallest share it held within the last window. */
  limit(): number {
    const since = this.clock.now() - this.windowMs;
    while (this.past.length > 0 && (this.past[0] as { endedAt: number }).endedAt <= since) this.past.shift();
    return this.past.reduce((min, p) => Math.min(min, p.share), this.share);
  }
}
