import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AvroDate, Decimal } from '../../../connector/core/values.js';
import { UnmappableEventError } from '../../../connector/core/errors.js';
import {
  formatDays,
  formatInstant,
  formatNumber,
  roundDecimal,
  roundDecimalText,
  stringifyValue,
  textLength,
  truncateText,
} from '../../../connector/core/mapping/stringify.js';
import { compileTransforms, TRANSFORM_NAMES, type TransformSpec } from '../../../connector/core/mapping/transforms.js';
import { NODE_PLATFORM } from '../../../connector/adapters/mapping-file/load.js';

function apply(specs: TransformSpec | TransformSpec[], value: unknown): unknown {
  const chain = compileTransforms(Array.isArray(specs) ? specs : [specs], NODE_PLATFORM);
  if (!chain) throw new Error('no chain');
  return chain(value);
}

const T = new Date('2026-03-01T12:34:56.789Z');

describe('stringification', () => {
  it('prints numbers without exponent noise', () => {
    expect(formatNumber(1e21)).toBe('1000000000000000000000');
    expect(formatNumber(1.5e-7)).toBe('0.00000015');
    expect(formatNumber(-2.5e25)).toBe('-25000000000000000000000000');
    expect(formatNumber(123.45)).toBe('123.45');
    expect(formatNumber(-0)).toBe('0');
    expect(formatNumber(Number.NaN)).toBeUndefined();
    expect(formatNumber(Infinity)).toBeUndefined();
  });

  it('formatNumber never uses an exponent and reads back as the same number', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        const text = formatNumber(n) as string;
        expect(text).toMatch(/^-?\d+(\.\d+)?$/);
        expect(Number(text)).toBe(n === 0 ? 0 : n);
      }),
    );
  });

  it('has one text form per value type', () => {
    expect(stringifyValue('Malmö & Co')).toBe('Malmö & Co');
    expect(stringifyValue(true)).toBe('true');
    expect(stringifyValue(false)).toBe('false');
    expect(stringifyValue(12n)).toBe('12');
    expect(stringifyValue(new Decimal(-5n, 3))).toBe('-0.005');
    expect(stringifyValue(T)).toBe('2026-03-01T12:34:56.789Z');
    expect(stringifyValue(new AvroDate(0))).toBe('1970-01-01');
    expect(stringifyValue(Buffer.from('hi'))).toBe('aGk=');
    expect(stringifyValue(['a', 1, null])).toBe('["a",1,null]');
    expect(stringifyValue({ at: T, amount: new Decimal(150n, 2), raw: Buffer.from([1]) })).toBe(
      '{"at":"2026-03-01T12:34:56.789Z","amount":"1.50","raw":"AQ=="}',
    );
    expect(stringifyValue(null)).toBeUndefined();
    expect(stringifyValue(undefined)).toBeUndefined();
    expect(stringifyValue(new Date(Number.NaN))).toBeUndefined();
  });

  it('a date beyond the ±100,000,000 days a Date can hold has no text, like a timestamp beyond them', () => {
    expect(formatDays(100_000_000)).toBe('+275760-09-13');
    expect(formatDays(-100_000_000)).toBe('-271821-04-20');
    for (const days of [100_000_001, -100_000_001, 100_682_765, 2 ** 31 - 1]) {
      expect(formatDays(days)).toBeUndefined();
      expect(stringifyValue(new AvroDate(days))).toBeUndefined();
    }
    expect(stringifyValue(new Date(8.64e15 + 1))).toBeUndefined();
  });

  it('formatInstant and formatDays agree with the Date built-ins for any instant', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (ms) => {
        expect(formatInstant(ms)).toBe(new Date(ms).toISOString());
        const days = Math.floor(ms / 86_400_000);
        expect(formatDays(days)).toBe(new Date(days * 86_400_000).toISOString().split('T')[0]);
      }),
      { numRuns: 2000 },
    );
  });

  it('rounds decimals half away from zero, exactly', () => {
    expect(roundDecimalText('1.005', 2)).toBe('1.01');
    expect(roundDecimalText('-1.005', 2)).toBe('-1.01');
    expect(roundDecimalText('-0.004', 2)).toBe('0.00');
    expect(roundDecimalText('2.5', 0)).toBe('3');
    expect(roundDecimalText('7', 2)).toBe('7.00');
    expect(roundDecimal(new Decimal(-250n, 2), 0)).toBe('-3');
    expect(roundDecimal(new Decimal(12_345n, 2), 4)).toBe('123.4500');
    expect(roundDecimal(new Decimal(10n ** 30n + 5n, 1), 0)).toBe('100000000000000000000000000001');
  });

  it('roundDecimal agrees with roundDecimalText on every Decimal', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }), fc.nat(8), fc.nat(8), (unscaled, scale, decimals) => {
        const d = new Decimal(unscaled, scale);
        expect(roundDecimal(d, decimals)).toBe(roundDecimalText(d.toString(), decimals));
      }),
    );
  });

  it('counts and truncates by characters, never splitting a surrogate pair', () => {
    expect(textLength('a😀b')).toBe(3);
    expect(truncateText('a😀b', 2)).toBe('a😀');
    expect(truncateText('😀😀', 1)).toBe('😀');
    expect(truncateText('abc', 5)).toBe('abc');
  });
});

describe('transforms', () => {
  it('lists every named transform of the mapping syntax', () => {
    expect([...TRANSFORM_NAMES].sort()).toEqual(['date', 'epoch_millis', 'iso8601', 'json', 'lowercase', 'sha256', 'string', 'trim', 'uppercase'].sort());
  });

  it('text transforms: trim, lowercase, uppercase, sha256 (hex of UTF-8)', () => {
    expect(apply('trim', '  Åsa \n')).toBe('Åsa');
    expect(apply('lowercase', 'MALMÖ')).toBe('malmö');
    expect(apply('uppercase', 'göteborg')).toBe('GÖTEBORG');
    expect(apply(['trim', 'lowercase', 'sha256'], ' Ann@Example.COM ')).toBe(createHash('sha256').update('ann@example.com').digest('hex'));
    expect(apply('sha256', 'ö')).toBe(createHash('sha256').update(Buffer.from('ö', 'utf8')).digest('hex'));
    expect(apply('uppercase', true)).toBe('TRUE');
  });

  it('time transforms accept Dates, Avro dates, epoch millis and ISO text', () => {
    expect(apply('iso8601', T)).toBe('2026-03-01T12:34:56.789Z');
    expect(apply('iso8601', T.getTime())).toBe('2026-03-01T12:34:56.789Z');
    expect(apply('iso8601', '2026-03-01T13:34:56.789+01:00')).toBe('2026-03-01T12:34:56.789Z');
    expect(apply('iso8601', new AvroDate(1))).toBe('1970-01-02');
    expect(apply('epoch_millis', T)).toBe(T.getTime());
    expect(apply('epoch_millis', new AvroDate(1))).toBe(86_400_000);
    expect(apply('date', T)).toBe('2026-03-01');
    expect(apply('date', new AvroDate(-1))).toBe('1969-12-31');
    expect(apply('date', '2026-03-01T23:59:59Z')).toBe('2026-03-01');
  });

  it('a time transform on something that is not a time is an UnmappableEventError', () => {
    expect(() => apply('iso8601', 'next tuesday')).toThrow(UnmappableEventError);
    expect(() => apply('date', { a: 1 })).toThrow(/date expects a timestamp/);
    expect(() => apply('epoch_millis', 1e17)).toThrow(UnmappableEventError);
  });

  it('string and json', () => {
    expect(apply('string', 1e21)).toBe('1000000000000000000000');
    expect(apply('string', new Decimal(1n, 2))).toBe('0.01');
    expect(apply('json', { a: [1, 'x'], b: new Decimal(5n, 1) })).toBe('{"a":[1,"x"],"b":"0.5"}');
    expect(apply('json', 'x')).toBe('"x"');
  });

  it('round works on numbers, decimals and numeric text, and refuses anything else', () => {
    expect(apply({ round: 2 }, 2.675)).toBe('2.68');
    expect(apply({ round: 0 }, new Decimal(123_450n, 2))).toBe('1235');
    expect(apply({ round: 1 }, ' 0.25 ')).toBe('0.3');
    expect(() => apply({ round: 1 }, 'abc')).toThrow(/round expects a number/);
  });

  it('join skips null items and passes non-arrays through', () => {
    expect(apply({ join: ',' }, ['shoes', null, 'bags', 3])).toBe('shoes,bags,3');
    expect(apply({ join: ' | ' }, [])).toBe('');
    expect(apply({ join: ',' }, 'single')).toBe('single');
  });

  it('truncate keeps n characters', () => {
    expect(apply({ truncate: 3 }, 'Malmö')).toBe('Mal');
    expect(apply({ truncate: 2 }, 12_345)).toBe('12');
  });

  it('lookup maps by text form; a value not in the table becomes missing', () => {
    const table = { lookup: { GOLD: 3, true: 'yes', '5': 'five' } };
    expect(apply(table, 'GOLD')).toBe('3');
    expect(apply(table, true)).toBe('yes');
    expect(apply(table, 5)).toBe('five');
    expect(apply(table, 'SILVER')).toBeUndefined();
  });

  it('a chain stops at the first missing value', () => {
    expect(apply([{ lookup: { A: 'x' } }, 'uppercase', 'sha256'], 'B')).toBeUndefined();
    expect(compileTransforms([], NODE_PLATFORM)).toBeUndefined();
  });
});
