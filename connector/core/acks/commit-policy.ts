/**
 * When acknowledged progress is committed: on a timer, sooner when much is done, and on demand
 * (a rebalance, a stop). What is committed is decided synchronously from the tracker, under the
 * assignment of that moment; a commit decided under an assignment that changed before it could
 * be sent is dropped, so no member ever commits a partition it no longer owns.
 */
import type { Clock } from '../clock.js';
import type { AckCommit, AckTracker } from './ack-tracker.js';

/** What the policy reports, for logs and metrics. */
export interface CommitObserver {
  /** A commit is being sent, decided under the current assignment. */
  committing?(commits: AckCommit[]): void;
  committed?(commits: AckCommit[]): void;
  /** A commit failed; what it carried is committed by the next one. */
  failed?(error: unknown): void;
}

export interface CommitPolicyOptions {
  tracker: AckTracker;
  /** Sends commits; resolves once the peer holds them (Kafka's offset commit, an echoed STATE). */
  commit(commits: AckCommit[]): Promise<void>;
  /** Commit this often while something is acknowledged; 0 commits at every acknowledgement. */
  intervalMs: number;
  /** Commit without waiting for the timer once this many events were acknowledged since the last commit. */
  threshold: number;
  clock: Clock;
  observer?: CommitObserver;
}

export class CommitPolicy {
  private ackedSinceCommit = 0;
  private commitSoon = false;
  private cancelTimer: (() => void) | undefined;
  private committing: Promise<void> = Promise.resolve();
  private readonly committedListeners: Array<() => void> = [];

  constructor(private readonly options: CommitPolicyOptions) {}

  /** Calls `listener` after every accepted commit (committed events free room for more). */
  onCommitted(listener: () => void): void {
    this.committedListeners.push(listener);
  }

  /** Starts the periodic commit. */
  start(): void {
    if (this.options.intervalMs > 0) this.tick();
  }

  /** Stops the periodic commit; `flush` still works. */
  stop(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  /** Counts an acknowledgement; commits soon once enough are waiting (or at once without an interval). */
  acked(): void {
    this.ackedSinceCommit++;
    if (this.options.intervalMs === 0) {
      void this.flush();
      return;
    }
    // The interval alone would let a fast run hold (and, after a crash, re-deliver) far more than needed.
    if (this.ackedSinceCommit >= this.options.threshold && !this.commitSoon) {
      this.commitSoon = true;
      this.options.clock.schedule(0, () => {
        this.commitSoon = false;
        void this.flush();
      });
    }
  }

  /**
   * Sends what is acknowledged at once, just before ownership ends (a rebalance): the commit is
   * started while the generation that owns the partitions is current, so it carries that
   * generation (the peer refuses it if that generation is gone). A slower commit decided earlier
   * may land after it and commit less: that re-delivers, never loses.
   */
  beforeRevoke(): void {
    const { tracker, commit, observer } = this.options;
    const commits = tracker.pendingCommits();
    if (commits.length === 0) return;
    observer?.committing?.(commits);
    commit(commits).then(
      () => observer?.committed?.(commits),
      (error: unknown) => observer?.failed?.(error),
    );
  }

  /** Commits the acknowledged prefix of every owned partition now; resolves once that (and any commit before it) is done. */
  flush(): Promise<void> {
    const { tracker, commit, observer } = this.options;
    const commits = tracker.pendingCommits();
    this.ackedSinceCommit = 0;
    if (commits.length === 0) return this.committing;
    const version = tracker.assignmentVersion;
    this.committing = this.committing.then(async () => {
      if (version !== tracker.assignmentVersion) return;
      observer?.committing?.(commits);
      try {
        await commit(commits);
        tracker.markCommitted(commits);
        observer?.committed?.(commits);
        for (const listener of this.committedListeners) listener();
      } catch (error) {
        observer?.failed?.(error);
      }
    });
    return this.committing;
  }

  private tick(): void {
    this.cancelTimer = this.options.clock.schedule(this.options.intervalMs, () => {
      void this.flush();
      this.tick();
    });
  }
}
