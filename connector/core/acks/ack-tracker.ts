import { PartitionOffsets } from './partition-offsets.js';

/**
 * Ownership of one partition for one assignment. It turns false when the partition is revoked,
 * and a later assignment of the same partition gets a new lease: work done under the old one
 * can then neither be committed nor be sent on behalf of the new owner.
 */
export interface Lease {
  readonly owned: boolean;
}

/** One tracked event: where it sits and the lease it was fetched under. */
export interface AckToken {
  stream: string;
  partition: number;
  offset: number;
  lease: Lease;
}

/** A position that may be committed: the next offset to read, as Kafka's commit API wants it. */
export interface AckCommit {
  stream: string;
  partition: number;
  offset: string;
}

interface PartitionState {
  lease: { owned: boolean };
  offsets: PartitionOffsets;
  committed?: number;
}

/**
 * Tracks delivery progress for every owned partition of every stream (Kafka topic partitions,
 * or the single ordered input of Airbyte `write`) and says what may be committed: for each
 * partition, the prefix in which every event was acknowledged, whatever order the
 * acknowledgements came in.
 */
export class AckTracker {
  private readonly partitions = new Map<string, PartitionState>();
  private assignments = 0;
  // Kept as a running count: the source asks before every fetched event.
  private held = 0;

  /** Changes whenever ownership changes; a commit decided under another version must not be sent. */
  get assignmentVersion(): number {
    return this.assignments;
  }

  /** Takes ownership of exactly these partitions; others are forgotten and never committed. */
  assign(owned: Array<{ stream: string; partition: number }>): void {
    this.revokeAll();
    // Kafka re-fetches even a partition we kept from its committed offset, so every one starts clean.
    for (const p of owned) this.partitions.set(key(p.stream, p.partition), { lease: { owned: true }, offsets: new PartitionOffsets() });
  }

  /** Gives up every partition (a rebalance started): their leases end, nothing more is committed for them. */
  revokeAll(): void {
    this.assignments++;
    for (const state of this.partitions.values()) state.lease.owned = false;
    this.partitions.clear();
    this.held = 0;
  }

  /** Registers a fetched event; undefined if its partition is not owned or the offset was seen. */
  track(stream: string, partition: number, offset: number): AckToken | undefined {
    const state = this.partitions.get(key(stream, partition));
    if (!state || !state.offsets.track(offset)) return undefined;
    this.held++;
    return { stream, partition, offset, lease: state.lease };
  }

  /** Acknowledges an event; tokens of an ended lease are ignored. */
  ack(token: AckToken): void {
    if (!token.lease.owned) return;
    this.partitions.get(key(token.stream, token.partition))?.offsets.ack(token.offset);
  }

  /** Commits that would advance an owned partition beyond what was last committed. */
  pendingCommits(): AckCommit[] {
    const commits: AckCommit[] = [];
    for (const [k, state] of this.partitions) {
      const next = state.offsets.committable();
      if (next !== undefined && next !== state.committed) {
        const [stream, partition] = split(k);
        commits.push({ stream, partition, offset: String(next) });
      }
    }
    return commits;
  }

  /** Records that these commits were accepted (ignored for partitions no longer owned). */
  markCommitted(commits: AckCommit[]): void {
    for (const c of commits) {
      const state = this.partitions.get(key(c.stream, c.partition));
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

  /** Whether this stream partition is currently owned. */
  owns(stream: string, partition: number): boolean {
    return this.partitions.has(key(stream, partition));
  }
}

function key(stream: string, partition: number): string {
  return `${partition}:${stream}`;
}

function split(k: string): [string, number] {
  const i = k.indexOf(':');
  return [k.slice(i + 1), Number(k.slice(0, i))];
}
