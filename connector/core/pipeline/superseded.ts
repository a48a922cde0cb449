/**
 * Replaying a dead letter must never bring back a value that a later event of the same profile
 * already set. The replay finds, per letter, the attributes later events on its source partition
 * set, and sends that list along with the unchanged copy in the `tps.replay.omit` header; the
 * connector drops those attributes from the copy's updates. Everything here is pure: the replay
 * does the reading.
 */
import type { MappingOutcome } from '../mapping/index.js';
import { identityKey } from '../profile.js';

/** Where an event sits in its source topic. */
export interface SourcePosition {
  topic: string;
  partition: number;
  offset: number;
}

/** Header of a replayed copy: `{ "<identity kind>:<identity value>": ["attr", …] }`, attributes not to set again. */
export const REPLAY_OMIT_HEADER = 'tps.replay.omit';

/** Why an update left with no attribute is not sent. */
export const SUPERSEDED_REASON = 'superseded by later events (replay)';

/** Attribute names (without `profile.`) a replayed event must not set, per identity key. */
export type OmitList = ReadonlyMap<string, ReadonlySet<string>>;

/** What the replay does with one letter. */
export type ReplayDecision =
  /** Re-produce it; `omit` is the header value for the copy, if anything must be left out. */
  | { action: 'replay'; omit: string | undefined }
  /** Later events set every attribute it carries: nothing is produced. */
  | { action: 'superseded' };

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The omit list as the header's JSON; identities and names sorted, so equal lists give equal headers. */
export function encodeOmitList(omit: OmitList): string {
  const entries = [...omit]
    .filter(([, names]) => names.size > 0)
    .sort(([a], [b]) => byCodePoint(a, b))
    .map(([key, names]) => [key, [...names].sort(byCodePoint)]);
  return JSON.stringify(Object.fromEntries(entries));
}

/**
 * The omit list a header value carries; undefined without a header, and for a malformed one (not
 * a JSON object of string arrays). Only the replay writes this header, so a malformed value comes
 * from a hand-made or damaged record. Ignoring it applies the event whole, as every replay did
 * before trimming existed; failing the event instead would dead-letter valid data over a hint,
 * and guessing at half a list could drop attributes nothing superseded.
 */
export function decodeOmitList(text: string | undefined): OmitList | undefined {
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  const omit = new Map<string, ReadonlySet<string>>();
  for (const [key, names] of Object.entries(parsed)) {
    if (!Array.isArray(names) || !names.every((name) => typeof name === 'string')) return undefined;
    omit.set(key, new Set(names));
  }
  return omit;
}

function applyOmitList(outcomes: MappingOutcome[], omit: OmitList): MappingOutcome[] {
  return outcomes.map((outcome) => {
    if (outcome.kind !== 'update') return outcome;
    const names = omit.get(identityKey(outcome.update.identity));
    if (names === undefined || names.size === 0) return outcome;
    const kept = Object.entries(outcome.update.attributes).filter(([name]) => !names.has(name));
    if (kept.length === 0) return { kind: 'filtered', reason: SUPERSEDED_REASON };
    return { kind: 'update', update: { ...outcome.update, attributes: Object.fromEntries(kept) } };
  });
}

/**
 * The outcomes without the attributes `header` (a `tps.replay.omit` value) lists for their
 * identity; an update left with none becomes filtered. Without a header (or with a malformed
 * one) the outcomes are returned as they are.
 */
export function omitSuperseded(outcomes: MappingOutcome[], header: string | undefined): MappingOutcome[] {
  const omit = decodeOmitList(header);
  return omit === undefined ? outcomes : applyOmitList(outcomes, omit);
}

/** What one source partition tells about the profiles its letters update. */
interface PartitionWrites {
  /** The earliest letter offset: only events after it matter. */
  after: number;
  /** Identity keys the letters update; other profiles are not remembered. */
  profiles: Set<string>;
  /** Per profile, per attribute: the last offset whose event set it. */
  lastSet: Map<string, Map<string, number>>;
}

function partitionId(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/**
 * What a replay learns before it produces anything: which source offsets are dead letters
 * themselves, which profiles the letters to replay update, and which attributes later events of
 * those profiles set. Memory grows with letters and with profiles × attributes, never with the
 * events read.
 */
export class SupersededIndex {
  private readonly deadLetters = new Map<string, Set<number>>();
  private readonly partitions = new Map<string, PartitionWrites & { topic: string; partition: number }>();

  /** The event at `at` is a dead letter of this replay: it set nothing (it is replayed in its turn). */
  addDeadLetter(at: SourcePosition): void {
    const id = partitionId(at.topic, at.partition);
    const offsets = this.deadLetters.get(id) ?? new Set<number>();
    offsets.add(at.offset);
    this.deadLetters.set(id, offsets);
  }

  /** A letter to replay from `at` maps to `outcomes`: later events of its profiles must be read. */
  addLetter(at: SourcePosition, outcomes: MappingOutcome[]): void {
    const updates = outcomes.filter((o) => o.kind === 'update');
    if (updates.length === 0) return;
    const id = partitionId(at.topic, at.partition);
    const writes = this.partitions.get(id) ?? { topic: at.topic, partition: at.partition, after: at.offset, profiles: new Set(), lastSet: new Map() };
    writes.after = Math.min(writes.after, at.offset);
    for (const o of updates) writes.profiles.add(identityKey(o.update.identity));
    this.partitions.set(id, writes);
  }

  /** The source partitions to read, each from just after its earliest letter. */
  reads(): Array<{ topic: string; partition: number; from: number }> {
    return [...this.partitions.values()].map((w) => ({ topic: w.topic, partition: w.partition, from: w.after + 1 }));
  }

  /**
   * Notes the event at `at`, mapped as the connector applies it (its own omit header applied).
   * Dead letters of this replay set nothing, and neither does an event any of whose mappings
   * fails: the connector dead-letters such an event whole. Filtered outcomes set nothing.
   */
  recordLater(at: SourcePosition, outcomes: MappingOutcome[]): void {
    const writes = this.partitions.get(partitionId(at.topic, at.partition));
    if (writes === undefined || at.offset <= writes.after) return;
    if (this.deadLetters.get(partitionId(at.topic, at.partition))?.has(at.offset)) return;
    if (outcomes.some((o) => o.kind === 'error')) return;
    for (const o of outcomes) {
      if (o.kind !== 'update') continue;
      const key = identityKey(o.update.identity);
      if (!writes.profiles.has(key)) continue;
      const attributes = writes.lastSet.get(key) ?? new Map<string, number>();
      for (const name of Object.keys(o.update.attributes)) attributes.set(name, Math.max(attributes.get(name) ?? -1, at.offset));
      writes.lastSet.set(key, attributes);
    }
  }

  /**
   * The decision for the letter from `at` (undefined when its headers do not say) whose event
   * maps to `outcomes` (undefined when it cannot be decoded or mapped), given the omit header it
   * carries from an earlier replay. That earlier list stays: the failed copy was already trimmed
   * by it, and the events that superseded those attributes lie before the copy's offset. A letter
   * with an updating outcome, no failing one, and nothing left once trimmed is superseded.
   */
  decide(at: SourcePosition | undefined, outcomes: MappingOutcome[] | undefined, carried: string | undefined): ReplayDecision {
    const omit = new Map<string, Set<string>>();
    for (const [key, names] of decodeOmitList(carried) ?? []) omit.set(key, new Set(names));
    const writes = at && this.partitions.get(partitionId(at.topic, at.partition));
    if (at && writes && outcomes) {
      for (const o of outcomes) {
        if (o.kind !== 'update') continue;
        const key = identityKey(o.update.identity);
        const lastSet = writes.lastSet.get(key);
        for (const name of Object.keys(o.update.attributes)) {
          if ((lastSet?.get(name) ?? -1) <= at.offset) continue;
          const names = omit.get(key) ?? new Set<string>();
          names.add(name);
          omit.set(key, names);
        }
      }
    }
    if (outcomes?.some((o) => o.kind === 'update') && !outcomes.some((o) => o.kind === 'error')) {
      if (!applyOmitList(outcomes, omit).some((o) => o.kind === 'update')) return { action: 'superseded' };
    }
    const header = encodeOmitList(omit);
    return { action: 'replay', omit: header === '{}' ? undefined : header };
  }
}
