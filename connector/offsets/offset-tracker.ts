import { PartitionOffsets } from './partition-offsets.js';

/** A partition's identity plus the assignment epoch an event was fetched in. */
export interface OffsetToken {
  topic: string;
  partition: number;
  offset: number;
  epoch: number;
}

export interface OffsetCommit {
  topic: string;
  partition: number;
  /** The next offset to read, as Kafka's commit API wants it. */
  offset: string;
}

/**
 * Tracks delivery progress for every owned partition and says what may be committed.
 * Each assignment of a partition gets a new epoch, so acknowledgements of events fetched
 * under an earlier assignment (before a rebalance) can never move a newer prefix.
 */
export class OffsetTracker {
  private readonly partitions = new Map<string, { epoch: number; offsets: PartitionOffsets; committed?: number }>();
  private nextEpoch = 1;
  private assignments = 0;
  // Kept as a running count: the source asks before every fetched message.
  private held = 0;

  /** Changes whenever ownership changes; a commit decided under another version must not be sent. */
  get assignmentVersion(): number {
    return this.assignments;
  }

  /** Takes ownership of exactly these partitions; others are forgotten and never committed. */
  assign(owned: Array<{ topic: string; partition: number }>): void {
    this.revokeAll();
    // Kafka re-fetches even a partition we kept from its committed offset, so every one starts clean.
    for (const p of owned) this.partitions.set(key(p.topic, p.partition), this.fresh());
  }

  /** Forgets every partition (rebalance started: nothing may be committed until the next assign). */
  revokeAll(): void {
    this.assignments++;
    this.partitions.clear();
    this.held = 0;
  }

  /** Registers a fetched offset; undefined if the partition is not owned or the offset was seen. */
  track(topic: string, partition: number, offset: number): OffsetToken | undefined {
    const state = this.partitions.get(key(topic, partition));
    if (!state || !state.offsets.track(offset)) return undefined;
    this.held++;
    return { topic, partition, offset, epoch: state.epoch };
  }

  /** Acknowledges an event; stale tokens from an earlier assignment are ignored. */
  ack(token: OffsetToken): void {
    const state = this.partitions.get(key(token.topic, token.partition));
    if (state && state.epoch === token.epoch) state.offsets.ack(token.offset);
  }

  /** Whether the token's partition is still owned under the assignment it was fetched in. */
  isCurrent(token: OffsetToken): boolean {
    return this.partitions.get(key(token.topic, token.partition))?.epoch === token.epoch;
  }

  /** Commits that would advance an owned partition beyond what was last committed. */
  pendingCommits(): OffsetCommit[] {
    const commits: OffsetCommit[] = [];
    for (const [k, state] of this.partitions) {
      const next = state.offsets.committable();
      if (next !== undefined && next !== state.committed) {
        const [topic, partition] = split(k);
        commits.push({ topic, partition, offset: String(next) });
      }
    }
    return commits;
  }

  /** Records that Kafka accepted these commits (ignored for partitions no longer owned). */
  markCommitted(commits: OffsetCommit[]): void {
    for (const c of commits) {
      const state = this.partitions.get(key(c.topic, c.partition));
      if (state && (state.committed === undefined || Number(c.offset) > state.committed)) {
        state.committed = Number(c.offset);
        this.held -= state.offsets.committed(state.committed);
      }
    }
  }

  /** Events tracked and not yet committed, over all owned partitions. */
  uncommitted(): number {
    return this.held;
  }

  /** Whether this topic-partition is currently owned. */
  owns(topic: string, partition: number): boolean {
    return this.partitions.has(key(topic, partition));
  }

  private fresh(): { epoch: number; offsets: PartitionOffsets } {
    return { epoch: this.nextEpoch++, offsets: new PartitionOffsets() };
  }
}

function key(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

function split(k: string): [string, number] {
  const i = k.indexOf(':');
  return [k.slice(i + 1), Number(k.slice(0, i))];
}
