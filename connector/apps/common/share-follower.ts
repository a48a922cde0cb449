import type { Logger } from 'pino';
import type { AccountBudgets } from './quota.js';

/**
 * Gives the budgets this member's part of the mapped topics at every new assignment. The topics'
 * partition count is read again each time (partitions may have been added); a later assignment
 * wins over an earlier one whose count arrives late.
 */
export class ShareFollower {
  private latest = 0;
  private total: number | undefined;
  private counting: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly budgets: Pick<AccountBudgets, 'assign'>,
    /** Reads the partition count of the mapped topics from the cluster. */
    private readonly countPartitions: () => Promise<number>,
    private readonly logger: Pick<Logger, 'warn'>,
  ) {}

  /** This member owns `owned` partitions of the mapped topics from now on. */
  owns(owned: number): void {
    // A join while stopping: the admin client is about to close, and a count would reconnect it.
    if (this.closed) return;
    const turn = ++this.latest;
    this.counting = this.countPartitions().then(
      (total) => {
        this.total = total;
        if (turn === this.latest) this.budgets.assign(owned, total);
      },
      (err: unknown) => {
        if (this.closed) return;
        // The last known count is the best guess; without one the share stays as it was (none at first).
        this.logger.warn({ err }, 'could not read the partition count of the mapped topics; the quota share uses the last one known');
        if (turn === this.latest && this.total !== undefined) this.budgets.assign(owned, this.total);
      },
    );
  }

  /** Starts no more counts and waits for the one in flight, so the admin client can close for good. */
  async close(): Promise<void> {
    this.closed = true;
    await this.counting;
  }
}
