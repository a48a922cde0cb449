import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS, headerText } from '../../../connector/adapters/kafka/headers.js';
import {
  planLetter,
  rangesToRead,
  replayHeaders,
  replayOmitHeaderOf,
  REPLAYED_FROM_HEADER,
  sourcePositionOf,
  withReplayOmit,
  type ReplayFilter,
  type StoredLetter,
} from '../../../connector/apps/replay/replay-plan.js';
import { REPLAY_OMIT_HEADER } from '../../../connector/core/pipeline/superseded.js';

const AT = { topic: 'tps.dlq', partition: 3, offset: '41' };
const ANY: ReplayFilter = { sourceTopics: [], errorCodes: [] };
// Not valid UTF-8: any decode/re-encode on the way would change these bytes.
const KEY = Buffer.from([0x00, 0xff, 0xc3, 0x28]);
const VALUE = Buffer.from([0x02, 0x06, 0x41, 0x42, 0x43, 0xfe, 0x00]);
const TRACE = Buffer.from([0xde, 0xad, 0xbe, 0xef]);

function letter(source: string | undefined, code: string | undefined, extra: StoredLetter['headers'] = {}): StoredLetter {
  const headers: NonNullable<StoredLetter['headers']> = { trace: TRACE, ...extra };
  if (source !== undefined) headers[DLQ_HEADERS.sourceTopic] = Buffer.from(source);
  if (code !== undefined) headers[DLQ_HEADERS.errorCode] = Buffer.from(code);
  return { key: KEY, value: VALUE, headers };
}

describe('planLetter filters', () => {
  it('replays every letter with a source topic when no filter is given', () => {
    const plan = planLetter(letter('crm', 'TARGET_REJECTED'), AT, ANY);
    expect(plan).toMatchObject({ action: 'replay', topic: 'crm' });
  });

  it('skips a letter without a source topic, whatever the filters', () => {
    expect(planLetter(letter(undefined, 'TARGET_REJECTED'), AT, ANY)).toEqual({ action: 'skip', reason: 'no tps.source.topic header' });
    expect(planLetter(letter('', 'TARGET_REJECTED'), AT, ANY).action).toBe('skip');
    expect(planLetter(letter(undefined, 'X'), AT, { sourceTopics: ['crm'], errorCodes: ['X'] }).action).toBe('skip');
  });

  it('keeps only the listed source topics', () => {
    const filter = { sourceTopics: ['crm', 'loyalty'], errorCodes: [] };
    expect(planLetter(letter('loyalty', 'DECODE_FAILED'), AT, filter).action).toBe('replay');
    expect(planLetter(letter('transactions', 'DECODE_FAILED'), AT, filter).action).toBe('unmatched');
    // Exact names: a prefix is another topic.
    expect(planLetter(letter('crm.v2', 'DECODE_FAILED'), AT, filter).action).toBe('unmatched');
  });

  it('keeps only the listed error codes; a letter without one matches no code filter', () => {
    const filter = { sourceTopics: [], errorCodes: ['TARGET_REJECTED'] };
    expect(planLetter(letter('crm', 'TARGET_REJECTED'), AT, filter).action).toBe('replay');
    expect(planLetter(letter('crm', 'DECODE_FAILED'), AT, filter).action).toBe('unmatched');
    expect(planLetter(letter('crm', undefined), AT, filter).action).toBe('unmatched');
  });

  it('requires both filters to hold', () => {
    const filter = { sourceTopics: ['crm'], errorCodes: ['TARGET_REJECTED'] };
    expect(planLetter(letter('crm', 'TARGET_REJECTED'), AT, filter).action).toBe('replay');
    expect(planLetter(letter('loyalty', 'TARGET_REJECTED'), AT, filter).action).toBe('unmatched');
    expect(planLetter(letter('crm', 'DECODE_FAILED'), AT, filter).action).toBe('unmatched');
  });

  it('hands the key and value bytes over unchanged, a null key included', () => {
    const plan = planLetter(letter('crm', 'X'), AT, ANY);
    if (plan.action !== 'replay') throw new Error(`expected a replay, got ${plan.action}`);
    expect(Buffer.compare(plan.message.key as Buffer, KEY)).toBe(0);
    expect(Buffer.compare(plan.message.value as Buffer, VALUE)).toBe(0);
    const keyless = planLetter({ ...letter('crm', 'X'), key: null }, AT, ANY);
    expect(keyless.action === 'replay' && keyless.message.key).toBeNull();
  });
});

describe('replayHeaders', () => {
  it('drops every tps.* header, keeps the rest byte for byte and records the origin', () => {
    const original = letter('crm', 'TARGET_REJECTED', {
      [DLQ_HEADERS.errorMessage]: 'HTTP 400',
      [DLQ_HEADERS.sourcePartition]: '0',
      [DLQ_HEADERS.sourceOffset]: '7',
      [DLQ_HEADERS.attempts]: '12',
      [DLQ_HEADERS.failedAt]: '2026-01-05T08:00:00.000Z',
      [DLQ_HEADERS.errorClass]: 'TargetError',
      // Left by an earlier replay of the same event: the new origin replaces it.
      [REPLAYED_FROM_HEADER]: 'tps.dlq[0]@2',
      'tps.unknown.future': 'x',
      tpsx: 'not ours: no dot',
      'content-type': 'avro/binary',
      multi: [Buffer.from('a'), 'b'],
    }).headers;
    expect(replayHeaders(original, AT)).toEqual({
      trace: TRACE,
      tpsx: 'not ours: no dot',
      'content-type': 'avro/binary',
      multi: [Buffer.from('a'), 'b'],
      [REPLAYED_FROM_HEADER]: 'tps.dlq[3]@41',
    });
  });

  it("drops the omit list of an earlier replay: the replay puts the copy's own list on", () => {
    expect(replayHeaders({ trace: TRACE, [REPLAY_OMIT_HEADER]: '{"mbox3rdPartyId:C":["tier"]}' }, AT)).toEqual({
      trace: TRACE,
      [REPLAYED_FROM_HEADER]: 'tps.dlq[3]@41',
    });
  });

  it('gives a letter without headers only the origin', () => {
    expect(replayHeaders(undefined, AT)).toEqual({ [REPLAYED_FROM_HEADER]: 'tps.dlq[3]@41' });
  });

  it('is what planLetter puts on the message', () => {
    const plan = planLetter(letter('crm', 'X'), AT, ANY);
    expect(plan.action === 'replay' && plan.message.headers).toEqual({ trace: TRACE, [REPLAYED_FROM_HEADER]: 'tps.dlq[3]@41' });
  });
});

describe('headerText', () => {
  it('reads Buffers and strings as UTF-8 and a repeated header as its last value', () => {
    expect(headerText({ a: Buffer.from('Malmö') }, 'a')).toBe('Malmö');
    expect(headerText({ a: 'x' }, 'a')).toBe('x');
    expect(headerText({ a: [Buffer.from('first'), Buffer.from('last')] }, 'a')).toBe('last');
    expect(headerText({ a: [] }, 'a')).toBeUndefined();
    expect(headerText(undefined, 'a')).toBeUndefined();
  });
});

describe('sourcePositionOf', () => {
  const headers = (partition: string | undefined, offset: string | undefined) => ({
    [DLQ_HEADERS.sourceTopic]: Buffer.from('crm'),
    ...(partition !== undefined && { [DLQ_HEADERS.sourcePartition]: Buffer.from(partition) }),
    ...(offset !== undefined && { [DLQ_HEADERS.sourceOffset]: offset }),
  });

  it('reads topic, partition and offset from the tps.source.* headers', () => {
    expect(sourcePositionOf(headers('2', '41'))).toEqual({ topic: 'crm', partition: 2, offset: 41 });
    expect(sourcePositionOf(headers('0', '0'))).toEqual({ topic: 'crm', partition: 0, offset: 0 });
  });

  it('is undefined when a header is missing or not a whole number Kafka could have written', () => {
    expect(sourcePositionOf(undefined)).toBeUndefined();
    expect(sourcePositionOf({ [DLQ_HEADERS.sourcePartition]: '0', [DLQ_HEADERS.sourceOffset]: '1' })).toBeUndefined();
    expect(sourcePositionOf({ ...headers('0', '1'), [DLQ_HEADERS.sourceTopic]: '' })).toBeUndefined();
    expect(sourcePositionOf(headers(undefined, '1'))).toBeUndefined();
    expect(sourcePositionOf(headers('0', undefined))).toBeUndefined();
    for (const bad of ['', '-1', '1.5', '1e3', ' 1', '0x10', '99999999999999999999']) {
      expect(sourcePositionOf(headers('0', bad)), bad).toBeUndefined();
      expect(sourcePositionOf(headers(bad, '0')), bad).toBeUndefined();
    }
  });
});

describe('rangesToRead', () => {
  const ends = [
    { partition: 2, low: '0', high: '10' },
    { partition: 0, low: '0', high: '5' },
    { partition: 1, low: '0', high: '0' },
    { partition: 3, low: '20', high: '30' },
  ];

  it('reads every non-empty partition from its low watermark when nothing was committed', () => {
    expect(rangesToRead(ends, [])).toEqual([
      { partition: 0, from: 0, end: 5 },
      { partition: 2, from: 0, end: 10 },
      { partition: 3, from: 20, end: 30 },
    ]);
  });

  it('resumes from the committed offsets and leaves out partitions already done', () => {
    const committed = [
      { partition: 0, offset: '5' },
      { partition: 2, offset: '7' },
      // Below what retention kept: the deleted letters are gone, start at the low watermark.
      { partition: 3, offset: '4' },
      { partition: 1, offset: '-1' },
    ];
    expect(rangesToRead(ends, committed)).toEqual([
      { partition: 2, from: 7, end: 10 },
      { partition: 3, from: 20, end: 30 },
    ]);
  });
});

describe('the tps.replay.omit header of a record', () => {
  it('is read from a record as text, Buffer or string, absent when missing', () => {
    expect(replayOmitHeaderOf({ [REPLAY_OMIT_HEADER]: Buffer.from('{"k":["ö"]}') })).toBe('{"k":["ö"]}');
    expect(replayOmitHeaderOf({ [REPLAY_OMIT_HEADER]: '{}' })).toBe('{}');
    expect(replayOmitHeaderOf({ other: 'x' })).toBeUndefined();
    expect(replayOmitHeaderOf(undefined)).toBeUndefined();
  });

  it('is put on a copy, replacing an earlier one, leaving the other headers and the original message alone', () => {
    const message = { key: Buffer.from('k'), value: Buffer.from([1, 2]), headers: { trace: 'x', [REPLAY_OMIT_HEADER]: '{"old":["a"]}' } };
    const copy = withReplayOmit(message, '{"new":["b"]}');
    expect(copy).toEqual({ key: message.key, value: message.value, headers: { trace: 'x', [REPLAY_OMIT_HEADER]: '{"new":["b"]}' } });
    expect(message.headers[REPLAY_OMIT_HEADER]).toBe('{"old":["a"]}');
    expect(withReplayOmit({ value: null }, '{}').headers).toEqual({ [REPLAY_OMIT_HEADER]: '{}' });
  });
});
