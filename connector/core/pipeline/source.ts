/**
 * The pipeline's one port to where events come from (a Kafka consumer group, Airbyte stdin, a
 * preview file). The pipeline drives it: the source hands events and assignment changes to the
 * pipeline's `Intake`; the pipeline hands back commits of acknowledged prefixes and asks it to
 * pause and resume fetching.
 */
import type { AckCommit } from '../acks/ack-tracker.js';

/** One record as a source hands it in; `message` is the source's own, given back for dead letters. */
export interface InboundEvent<M> {
  /** The topic (or Airbyte stream) the record belongs to: its mapping, its schema, its dead letter's source. */
  topic: string;
  /** The ordered input the record was read from, and its position there: what acknowledgements track. */
  input: string;
  partition: number;
  offset: number;
  /** The encoded value, or null for a tombstone (nothing to decode or deliver). */
  payload: Uint8Array | null;
  /** A header of the record as text, if it has one. */
  header(name: string): string | undefined;
  message: M;
}

/** One partition of one ordered input (a Kafka topic partition, or a single input's partition 0). */
export interface SourcePartition {
  stream: string;
  partition: number;
}

/** Where events come from and where their acknowledged progress goes. */
export interface Source<M> {
  /** Starts handing events to `intake`; resolves once the source is under way (a group joined, a finite input read to its end). */
  open(intake: Intake<M>): Promise<void>;
  /** Stores the acknowledged prefix of owned partitions; resolves once the peer holds it (Kafka's offset commit, an echoed STATE). */
  commit(commits: AckCommit[]): Promise<void>;
  /** Stops fetching until `resume`: the pipeline stayed full past `holdMs`, or the run ends. */
  pause(): void;
  /** Fetching may go on. */
  resume(): void;
  /** How long a read may wait for room before the source must be paused instead; absent: reads wait as long as it takes. */
  readonly holdMs?: number;
  /**
   * Reads a record again by its position, for the dead letter of an event that let go of its
   * record while it waited (a bulk row); absent when the source cannot (stdin), and then events
   * keep their records. A record that is gone (retention, compaction) comes back without payload.
   */
  reread?(input: string, partition: number, offset: number): Promise<InboundEvent<M>>;
}

/** What a source hands its events and assignment changes to: the pipeline. */
export interface Intake<M> {
  /** These partitions, and only these, are the source's from now on. */
  assigned(partitions: SourcePartition[]): void;
  /** Every partition is given up (a rebalance started): what is acknowledged is committed first, nothing more after. */
  revoked(): void;
  /** True while no event may be handed in. */
  readonly full: boolean;
  /**
   * Resolves true once the next event may be handed in, or false when the pipeline paused the
   * source instead (full past `holdMs`, or the run ends): the read ends, and the pipeline resumes
   * the source once room returns.
   */
  room(): Promise<boolean>;
  /**
   * Takes one event. Returns nothing when it was handled synchronously, or a promise when
   * decoding must wait; the source awaits it before the next event of the same partition, which
   * keeps the order. `keepAlive` is called while waiting (a Kafka heartbeat).
   */
  accept(event: InboundEvent<M>, keepAlive?: () => Promise<void>): void | Promise<void>;
}

/** Told the partitions this member owns after each new assignment: what follows the assignment (the quota share, the lag read, the backlog). */
export interface AssignmentFollower {
  owns(partitions: SourcePartition[]): void;
}
