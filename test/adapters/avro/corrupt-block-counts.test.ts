/**
 * A corrupted byte can turn an array or map block count into billions. avsc trusts the count:
 * reading such a value loops until memory runs out, skipping it (a writer's field the reader
 * schema does not have) loops for hours, and a negative block size steps back and re-reads the same block
 * forever; any of them stops the partition. The decoder must fail those values quickly, naming
 * the count, so they are dead-lettered like any other bad bytes.
 */
import type { Type } from 'avsc';
import { describe, expect, it } from 'vitest';
import { createDecoder } from '../../../connector/adapters/avro/decoder.js';
import { parseAvroSchema } from '../../../connector/core/avro-types.js';
import { DecodeError } from '../../../connector/core/errors.js';

const TOPIC = 't';
const LONG = parseAvroSchema('long');

/** A record with `id` and one collection field after it. */
function schemaWith(collection: object): Type {
  return parseAvroSchema({
    type: 'record',
    name: 'R',
    fields: [
      { name: 'id', type: 'string' },
      { name: 'c', type: collection },
    ],
  });
}

/** The bytes of `{ id: "a" }` followed by `longs` (the collection's block counts and sizes). */
function valueWith(...longs: number[]): Buffer {
  return Buffer.concat([Buffer.from([2, 0x61]), ...longs.map((n) => LONG.toBuffer(n))]);
}

/** The reader schema of `skipped` cases: only `id`, so the writer's collection is skipped. */
const ID_ONLY = parseAvroSchema({ type: 'record', name: 'R', fields: [{ name: 'id', type: 'string' }] });

/** Confluent framing with schema id 1: magic byte 0, the 4-byte id, the Avro body. */
function framed(body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0, 0, 0, 0, 1]), body]);
}

/** Decodes `bytes` written with `writer`: read whole, or (`skipped`) with a reader schema that lacks the collection. */
async function decode(writer: Type, bytes: Buffer, skipped: boolean): Promise<unknown> {
  if (!skipped) return createDecoder({ readerSchemas: new Map([[TOPIC, writer]]) }).decode(TOPIC, bytes);
  const decoder = createDecoder({ readerSchemas: new Map([[TOPIC, ID_ONLY]]), registry: { schemaById: async () => writer } });
  return decoder.decode(TOPIC, framed(bytes));
}

/** The decoder's error for `bytes` (see `decode`). */
async function failure(writer: Type, bytes: Buffer, skipped: boolean): Promise<DecodeError> {
  const err = await decode(writer, bytes, skipped).then(
    () => new Error('expected a DecodeError'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DecodeError);
  return err as DecodeError;
}

const ARRAY = schemaWith({ type: 'array', items: 'string' });
const MAP = schemaWith({ type: 'map', values: 'string' });
const NULLS = schemaWith({ type: 'array', items: 'null' });

describe('corrupted Avro block counts', () => {
  it.each([
    ['an array read whole', ARRAY, false, 2 ** 40],
    ['an array skipped', ARRAY, true, 30_000_000],
    ['a map read whole', MAP, false, 30_000_000],
    ['a map skipped', MAP, true, 30_000_000],
  ])('%s fails at once, its cause naming the count and the bytes left', async (_name, schema, skipped, count) => {
    const err = await failure(schema, valueWith(count), skipped);
    expect((err.cause as Error).message).toBe(`a block says ${count} entries follow, but only 0 bytes are left`);
    // The user's reason comes from the diagnosis of the bytes, as for any other bad value.
    expect(err.message).toContain(`says ${count} entries follow, but only 0 bytes are left`);
  });

  it.each([
    ['an array', ARRAY],
    ['a map', MAP],
  ])('a skipped block of %s whose byte size is negative fails instead of stepping back', async (_name, schema) => {
    const err = await failure(schema, valueWith(-1, -3, 0), true);
    expect((err.cause as Error).message).toBe('a block says its entries take -3 bytes');
  });

  it('a block of entries that take no bytes (nulls) may outnumber the bytes left, up to a bound', async () => {
    expect(await decode(NULLS, valueWith(1000, 0), false)).toEqual({ id: 'a', c: new Array(1000).fill(null) });
    const err = await failure(NULLS, valueWith(2 ** 40, 0), false);
    expect((err.cause as Error).message).toBe(`a block says ${2 ** 40} entries follow, but only 1 byte is left`);
  });

  it('well-formed values in several blocks, negative counts with sizes included, still read and skip', async () => {
    // Block of 2 with its byte size (count -2, size 4), then a block of 1, then the end.
    const bytes = Buffer.concat([
      Buffer.from([2, 0x61]),
      LONG.toBuffer(-2),
      LONG.toBuffer(4),
      Buffer.from([2, 0x78, 2, 0x79]),
      LONG.toBuffer(1),
      Buffer.from([2, 0x7a, 0]),
    ]);
    expect(await decode(ARRAY, bytes, false)).toEqual({ id: 'a', c: ['x', 'y', 'z'] });
    expect(await decode(ARRAY, bytes, true)).toEqual({ id: 'a' });
    const map = Buffer.concat([Buffer.from([2, 0x61]), LONG.toBuffer(-1), LONG.toBuffer(4), Buffer.from([2, 0x6b, 2, 0x76]), LONG.toBuffer(0)]);
    expect(await decode(MAP, map, false)).toEqual({ id: 'a', c: { k: 'v' } });
    expect(await decode(MAP, map, true)).toEqual({ id: 'a' });
  });
});
