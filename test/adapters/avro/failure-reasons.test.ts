import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { findMismatch } from '../../../connector/adapters/avro/avro-mismatch.js';
import { parseAvroSchema } from '../../../connector/core/avro-types.js';
import { createDecoder } from '../../../connector/adapters/avro/decoder.js';
import { generateSampleEvents, SAMPLE_TOPICS } from '../../../connector/tools/sample-events.js';
import { DecodeError } from '../../../connector/core/errors.js';

const type = parseAvroSchema({
  type: 'record',
  name: 'Event',
  namespace: 'test',
  fields: [
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B'] } },
    { name: 'ok', type: 'boolean' },
    { name: 'count', type: 'int' },
    { name: 'seq', type: 'long' },
    { name: 'code', type: { type: 'fixed', name: 'Code', size: 2 } },
    { name: 'ratio', type: 'double' },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'extra', type: { type: 'map', values: { type: 'record', name: 'Item', fields: [{ name: 'sku', type: 'string' }] } } },
  ],
});
const valid = {
  kind: 'B',
  ok: true,
  count: 7,
  seq: 12,
  code: Buffer.from('XY'),
  ratio: 0.5,
  tags: ['a', 'b'],
  extra: { k1: { sku: 'S-1' } },
};
const good = type.toBuffer(valid);
/** Where each field starts in `good` (varints of small values take one byte). */
const AT = { kind: 0, ok: 1, count: 2, seq: 3, code: 4, ratio: 6, tags: 14 };

function patched(at: number, ...bytes: number[]): Buffer {
  const copy = Buffer.from(good);
  bytes.forEach((b, i) => (copy[at + i] = b));
  return copy;
}

function detail(bytes: Buffer, base = 0): string | undefined {
  const found = findMismatch(type, bytes, base);
  return found?.kind === 'invalid' ? found.detail : undefined;
}

describe('findMismatch names the field and the byte where the bytes stop fitting', () => {
  it('finds nothing wrong in a valid value', () => {
    expect(findMismatch(type, good)).toBeUndefined();
  });

  it.each([
    ['an enum index out of range', patched(AT.kind, 6), 'field kind at byte 0 has enum index 3, but enum test.Kind has 2 symbols (A, B)'],
    ['a boolean byte other than 0 or 1', patched(AT.ok, 0x47), 'field ok at byte 1 is 0x47, not a boolean (0 or 1)'],
    [
      'an int beyond 32 bits',
      Buffer.concat([good.subarray(0, 2), Buffer.from([0x80, 0x80, 0x80, 0x80, 0x20])]),
      'field count at byte 2 holds 4294967296, too large for an int',
    ],
    [
      'a long beyond 2^53',
      Buffer.concat([good.subarray(0, 3), Buffer.from([0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])]),
      'field seq at byte 3 holds a long beyond ±2^53, which cannot be read exactly',
    ],
    [
      'a number that never ends',
      Buffer.concat([good.subarray(0, 3), Buffer.alloc(12, 0xff)]),
      'expected a long for field seq at byte 3, but the bytes there do not end a number within 10 bytes',
    ],
    ['a fixed cut short', good.subarray(0, 5), 'expected a fixed test.Code (2 bytes) for field code at byte 4, but the value has only 5 bytes'],
    ['a double cut short', good.subarray(0, 9), 'expected a double (8 bytes) for field ratio at byte 6, but the value has only 9 bytes'],
    ['a negative string length', patched(AT.tags + 1, 3), 'expected a string for field tags[0] at byte 15, but its length is negative (-2)'],
    ['text that is not UTF-8', patched(AT.tags + 2, 0xff), 'expected a string for field tags[0] at byte 15, but its text (1 byte) is not valid UTF-8'],
    ['an impossible item count', patched(AT.tags, 0x7e), 'field tags at byte 14 says 63 entries follow, but only 14 bytes are left'],
  ])('%s', (_what, bytes, expected) => {
    expect(detail(bytes)).toBe(expected);
  });

  it('names map entries by key and record fields inside them, and counts bytes from `base`', () => {
    const cut = good.subarray(0, good.length - 3);
    expect(detail(cut, 5)).toBe(
      `expected a string of 3 bytes for field extra["k1"].sku at byte ${5 + good.length - 5}, but the value has only ${5 + good.length - 3} bytes`,
    );
  });

  it('reports bytes left over after a whole value', () => {
    expect(findMismatch(type, Buffer.concat([good, Buffer.from([1, 2, 3])]))).toEqual({ kind: 'trailing', extra: 3 });
    expect(findMismatch(parseAvroSchema('string'), Buffer.from([2, 0x41]))).toBeUndefined();
  });

  it('a top-level value that is not a record is "the value"', () => {
    const found = findMismatch(parseAvroSchema('long'), Buffer.from([0x80]));
    expect(found).toEqual({ kind: 'invalid', detail: 'expected a long for the value at byte 0, but the value has only 1 byte' });
  });
});

describe('decode failures are in the user terms, whatever the bytes', () => {
  const crm = parseAvroSchema(JSON.parse(readFileSync(new URL('../../../schemas/crm-customer-updated.avsc', import.meta.url), 'utf8')));
  const [event] = generateSampleEvents({ count: 1, customers: 1, seed: 7, topics: [SAMPLE_TOPICS.crm] });
  const decoder = createDecoder({ readerSchemas: new Map([['crm', crm]]) });
  const AVSC_WORDS = /truncated buffer|invalid union index|trailing data|precision loss|enum index: |RangeError|TypeError|undefined|the bytes are not a value/;

  it('random bytes either decode or fail with a message naming what is wrong, never an avsc or JavaScript message', () => {
    const sample = crm.toBuffer(event?.value);
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }),
      // Valid values with a few bytes changed or cut: the failures a wrong schema produces.
      fc
        .tuple(fc.integer({ min: 0, max: sample.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: sample.length }))
        .map(([at, byte, end]) => {
          const copy = Uint8Array.from(sample);
          copy[at] = byte;
          return copy.subarray(0, end);
        }),
    );
    fc.assert(
      fc.property(bytes, (raw) => {
        let error: unknown;
        try {
          decoder.decode('crm', Buffer.from(raw));
        } catch (err) {
          error = err;
        }
        if (error === undefined) return;
        expect(error).toBeInstanceOf(DecodeError);
        const message = (error as DecodeError).message;
        expect(message).toMatch(
          /^cannot decode crm: (not Avro for schema com\.acme\.crm\.CustomerUpdated: |\d+ bytes? left after the record: |value (is JSON|looks Confluent-framed))/,
        );
        expect(message).not.toMatch(AVSC_WORDS);
      }),
      { numRuns: 2000 },
    );
  });
});
