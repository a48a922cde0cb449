/**
 * What a replay does with each dead letter, decided without I/O: which partitions still need
 * reading, whether a letter matches the user's filters, and the message that goes back to its
 * source topic.
 */
import type { IHeaders, Message } from 'kafkajs';
import { DLQ_HEADERS, headerText } from '../../adapters/kafka/headers.js';
import { REPLAY_OMIT_HEADER, type SourcePosition } from '../../core/pipeline/superseded.js';

/** Header a replayed message carries: the dead letter it came from, `<dlq>[partition]@offset`. */
export const REPLAYED_FROM_HEADER = 'tps.replayed.from';

/** Every header the connector itself writes starts with this; none of them belong to the event. */
const CONNECTOR_HEADER_PREFIX = 'tps.';

/** Which dead letters to replay; an empty list puts no condition on that field. */
export interface ReplayFilter {
  sourceTopics: readonly string[];
  errorCodes: readonly string[];
}

/** Where a dead letter sits in the dead-letter topic. */
export interface LetterPosition {
  topic: string;
  partition: number;
  offset: string;
}

/** A dead letter as read from Kafka. */
export interface StoredLetter {
  key: Buffer | null;
  value: Buffer | null;
  headers?: IHeaders;
}

/** The decision for one dead letter. */
export type LetterPlan =
  | { action: 'replay'; topic: string; errorCode: string | undefined; message: Message }
  /** Cannot be replayed at all (no source topic): counted, and never looked at again. */
  | { action: 'skip'; reason: string }
  /** Outside the filters of this run. */
  | { action: 'unmatched' };

/** Where an event sits in its source topic. */

/** The offsets of one dead-letter partition a replay still has to read: `[from, end)`. */
export interface PartitionRange {
  partition: number;
  from: number;
  end: number;
}

/** `<dlq>[partition]@offset`, the value of the replayed-from header. */
export function describePosition(at: LetterPosition): string {
  return `${at.topic}[${at.partition}]@${at.offset}`;
}

function wholeNumber(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Where a dead letter's event came from, per its `tps.source.*` headers; undefined when one is missing or not a number. */
export function sourcePositionOf(headers: IHeaders | undefined): SourcePosition | undefined {
  const topic = headerText(headers, DLQ_HEADERS.sourceTopic);
  const partition = wholeNumber(headerText(headers, DLQ_HEADERS.sourcePartition));
  const offset = wholeNumber(headerText(headers, DLQ_HEADERS.sourceOffset));
  if (!topic || partition === undefined || offset === undefined) return undefined;
  return { topic, partition, offset };
}

/**
 * The event's own headers (values untouched, so bytes survive), without the connector's `tps.*`
 * headers, plus where the replayed copy came from. Earlier `tps.replayed.from` values go too:
 * the newest dead letter is the one that matters if this copy fails again. So does an earlier
 * `tps.replay.omit`: the replay puts the copy's own list back (superseded.ts).
 */
export function replayHeaders(headers: IHeaders | undefined, at: LetterPosition): IHeaders {
  const kept: IHeaders = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!name.startsWith(CONNECTOR_HEADER_PREFIX) && value !== undefined) kept[name] = value;
  }
  kept[REPLAYED_FROM_HEADER] = describePosition(at);
  return kept;
}

function matches(allowed: readonly string[], value: string | undefined): boolean {
  return allowed.length === 0 || (value !== undefined && allowed.includes(value));
}

/** Decides what happens to the dead letter at `at`; the message keeps its key and value bytes as they are. */
export function planLetter(letter: StoredLetter, at: LetterPosition, filter: ReplayFilter): LetterPlan {
  const topic = headerText(letter.headers, DLQ_HEADERS.sourceTopic);
  if (topic === undefined || topic === '') return { action: 'skip', reason: `no ${DLQ_HEADERS.sourceTopic} header` };
  const errorCode = headerText(letter.headers, DLQ_HEADERS.errorCode);
  if (!matches(filter.sourceTopics, topic) || !matches(filter.errorCodes, errorCode)) return { action: 'unmatched' };
  return {
    action: 'replay',
    topic,
    errorCode,
    message: { key: letter.key, value: letter.value, headers: replayHeaders(letter.headers, at) },
  };
}

/**
 * The partitions with dead letters this replay group has not handled yet, each up to the end
 * offset taken at the start (letters arriving later wait for the next replay). Without a
 * committed offset, or with one below what retention kept, reading starts at the low watermark.
 */
export function rangesToRead(
  ends: ReadonlyArray<{ partition: number; low: string; high: string }>,
  committed: ReadonlyArray<{ partition: number; offset: string }>,
): PartitionRange[] {
  const ranges: PartitionRange[] = [];
  for (const { partition, low, high } of ends) {
    const done = Number(committed.find((c) => c.partition === partition)?.offset ?? -1);
    const from = Math.max(Number(low), done);
    const end = Number(high);
    if (from < end) ranges.push({ partition, from, end });
  }
  return ranges.sort((a, b) => a.partition - b.partition);
}

/** The `tps.replay.omit` header of a record as text, if it has one. */
export function replayOmitHeaderOf(headers: IHeaders | undefined): string | undefined {
  return headerText(headers, REPLAY_OMIT_HEADER);
}

/** The copy to produce, carrying `omit` as its `tps.replay.omit` header (replacing any). */
export function withReplayOmit(message: Message, omit: string): Message {
  return { ...message, headers: { ...message.headers, [REPLAY_OMIT_HEADER]: omit } };
}
