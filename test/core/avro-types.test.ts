import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAvroSchema } from '../../connector/core/avro-types.js';
import { AvroDate, Decimal } from '../../connector/core/values.js';

function field(type: unknown) {
  return parseAvroSchema({ type: 'record', name: 'R', fields: [{ name: 'v', type }] });
}

function roundTrip(type: unknown, input: unknown): unknown {
  const t = field(type);
  return (t.fromBuffer(t.toBuffer({ v: input })) as { v: unknown }).v;
}

const MILLIS = { type: 'long', logicalType: 'timestamp-millis' };
const MICROS = { type: 'long', logicalType: 'timestamp-micros' };
const DATE = { type: 'int', logicalType: 'date' };
const DECIMAL_BYTES = { type: 'bytes', logicalType: 'decimal', precision: 10, scale: 2 };
const DECIMAL_FIXED = { type: 'fixed', name: 'Money', size: 4, logicalType: 'decimal', precision: 9, scale: 3 };
const UUID = { type: 'string', logicalType: 'uuid' };

describe('timestamps', () => {
  it('timestamp-millis decodes to a Date and accepts Date, ISO text and epoch millis', () => {
    const expected = new Date('2026-03-01T12:34:56.789Z');
    expect(roundTrip(MILLIS, expected)).toEqual(expected);
    expect(roundTrip(MILLIS, '2026-03-01T12:34:56.789Z')).toEqual(expected);
    expect(roundTrip(MILLIS, expected.getTime())).toEqual(expected);
  });

  it('timestamp-micros decodes to a Date truncated to millis; plain numbers are microseconds', () => {
    const micros = 1_772_368_496_789_999;
    const value = roundTrip(MICROS, micros) as Date;
    expect(value).toBeInstanceOf(Date);
    expect(value.toISOString()).toBe('2026-03-01T12:34:56.789Z');
    const t = field(MICROS);
    // The wire value is the microsecond count itself.
    expect(parseAvroSchema('long').fromBuffer(t.toBuffer({ v: micros }))).toBe(micros);
    expect(roundTrip(MICROS, new Date(-1))).toEqual(new Date(-1));
  });

  it('local-timestamp-millis behaves like timestamp-millis', () => {
    expect(roundTrip({ type: 'long', logicalType: 'local-timestamp-millis' }, 0)).toEqual(new Date(0));
  });

  it('refuses text that is not a date when encoding', () => {
    expect(() => field(MILLIS).toBuffer({ v: 'yesterday' })).toThrow();
  });

  it('a long written by an older schema resolves into a timestamp reader', () => {
    const writer = field('long');
    const reader = field(MILLIS);
    const value = reader.fromBuffer(writer.toBuffer({ v: 86_400_000 }), reader.createResolver(writer)) as { v: Date };
    expect(value.v).toEqual(new Date('1970-01-02T00:00:00.000Z'));
  });

  it('a timestamp-micros writer resolves into a timestamp-millis reader', () => {
    const writer = field(MICROS);
    const reader = field(MILLIS);
    const value = reader.fromBuffer(writer.toBuffer({ v: 5_000_000 }), reader.createResolver(writer)) as { v: Date };
    expect(value.v).toEqual(new Date(5000));
  });
});

describe('date', () => {
  it('decodes to AvroDate and accepts AvroDate, "YYYY-MM-DD" and day numbers', () => {
    expect(roundTrip(DATE, '2026-11-28')).toEqual(new AvroDate(20_785));
    expect(roundTrip(DATE, 20_785)).toEqual(new AvroDate(20_785));
    expect(String(roundTrip(DATE, new AvroDate(-1)))).toBe('1969-12-31');
  });
});

describe('decimal', () => {
  it('bytes decimals are exact, positive and negative', () => {
    expect(String(roundTrip(DECIMAL_BYTES, '12.34'))).toBe('12.34');
    expect(String(roundTrip(DECIMAL_BYTES, '-0.01'))).toBe('-0.01');
    expect(String(roundTrip(DECIMAL_BYTES, 0))).toBe('0.00');
    expect(String(roundTrip(DECIMAL_BYTES, 99_999_999.99))).toBe('99999999.99');
    expect(roundTrip(DECIMAL_BYTES, new Decimal(-12_800n, 2))).toEqual(new Decimal(-12_800n, 2));
  });

  it("reads the two's complement bytes other Avro libraries write", () => {
    const bytes = parseAvroSchema({ type: 'record', name: 'R', fields: [{ name: 'v', type: 'bytes' }] });
    const reader = field(DECIMAL_BYTES);
    // 0xFF38 = -200 → -2.00; 0x00FF = 255 → 2.55; 8 bytes take the bigint path.
    const read = (hex: string) => String((reader.fromBuffer(bytes.toBuffer({ v: Buffer.from(hex, 'hex') })) as { v: Decimal }).v);
    expect(read('ff38')).toBe('-2.00');
    expect(read('00ff')).toBe('2.55');
    expect(read('ffffffffffffffff')).toBe('-0.01');
    expect(read('7fffffffffffffff')).toBe('92233720368547758.07');
  });

  it('fixed decimals are sign-extended to the fixed size', () => {
    const t = field(DECIMAL_FIXED);
    const buf = t.toBuffer({ v: '-1.5' });
    expect(buf.subarray(-4).toString('hex')).toBe('fffffa24');
    expect(String((t.fromBuffer(buf) as { v: Decimal }).v)).toBe('-1.500');
  });

  it('round-trips any value within the precision exactly', () => {
    const t = field({ type: 'bytes', logicalType: 'decimal', precision: 30, scale: 6 });
    const f = field({ type: 'fixed', name: 'F', size: 13, logicalType: 'decimal', precision: 30, scale: 6 });
    const limit = 10n ** 30n - 1n;
    fc.assert(
      fc.property(fc.bigInt({ min: -limit, max: limit }), (unscaled) => {
        const d = new Decimal(unscaled, 6);
        expect((t.fromBuffer(t.toBuffer({ v: d })) as { v: Decimal }).v).toEqual(d);
        expect((f.fromBuffer(f.toBuffer({ v: d })) as { v: Decimal }).v).toEqual(d);
      }),
    );
  });

  it('refuses values beyond the precision or with more decimals than the scale', () => {
    expect(field(DECIMAL_BYTES).isValid({ v: '123456789.00' })).toBe(false);
    expect(field(DECIMAL_BYTES).isValid({ v: '1.234' })).toBe(false);
    expect(field(DECIMAL_BYTES).isValid({ v: '1.230' })).toBe(true);
  });

  it('an invalid decimal declaration falls back to its underlying bytes, as the Avro spec says', () => {
    const raw = Buffer.from([1, 2]);
    expect(roundTrip({ type: 'bytes', logicalType: 'decimal', scale: 2 }, raw)).toEqual(raw);
    expect(roundTrip({ type: 'bytes', logicalType: 'decimal', precision: 2, scale: 3 }, raw)).toEqual(raw);
  });

  it('resolving needs the same scale', () => {
    const writer = field({ ...DECIMAL_BYTES, scale: 3 });
    expect(() => field(DECIMAL_BYTES).createResolver(writer)).toThrow();
    const same = field({ ...DECIMAL_BYTES, precision: 12 });
    const reader = field(DECIMAL_BYTES);
    const value = reader.fromBuffer(same.toBuffer({ v: '1.25' }), reader.createResolver(same));
    expect(String((value as { v: Decimal }).v)).toBe('1.25');
  });
});

describe('uuid and unions', () => {
  it('uuid decodes to its text and only accepts UUIDs when encoding', () => {
    expect(roundTrip(UUID, '123e4567-e89b-12d3-a456-426614174000')).toBe('123e4567-e89b-12d3-a456-426614174000');
    expect(field(UUID).isValid({ v: 'not-a-uuid' })).toBe(false);
  });

  it('unions are unwrapped: the value is the branch value itself', () => {
    const t = parseAvroSchema({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'a', type: ['null', 'string'] },
        { name: 'b', type: ['null', MILLIS] },
        { name: 'c', type: ['null', { type: 'record', name: 'Inner', fields: [{ name: 'x', type: 'int' }] }] },
      ],
    });
    const value = t.fromBuffer(t.toBuffer({ a: 'x', b: 0, c: { x: 1 } }));
    expect(value).toEqual({ a: 'x', b: new Date(0), c: { x: 1 } });
    expect(t.fromBuffer(t.toBuffer({ a: null, b: null, c: null }))).toEqual({ a: null, b: null, c: null });
  });

  it('records carry no avsc helper methods a path could reach', () => {
    const value = field('string').fromBuffer(field('string').toBuffer({ v: 'x' })) as Record<string, unknown>;
    expect(value.toBuffer).toBeUndefined();
    expect(value.clone).toBeUndefined();
  });
});
