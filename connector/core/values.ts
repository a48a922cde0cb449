/**
 * How decoded Avro values look to the rest of the connector (the contract between decode and
 * mapping). Decoding uses unwrapped unions, so a union value is simply its branch's value.
 *
 * - records and maps: plain objects; arrays: arrays; enums and strings: string
 * - int, float, double: number; long: number (bigint only beyond 2^53 is not supported by avsc default)
 * - bytes and fixed without a logical type: Buffer
 * - timestamp-millis, timestamp-micros, local-timestamp-*: Date (micros truncated to millis)
 * - date: AvroDate (days since the epoch, formats as YYYY-MM-DD)
 * - decimal (bytes or fixed): Decimal (exact; never through a float)
 * - uuid: string
 */

/** An exact decimal: `unscaled * 10^-scale`. */
export class Decimal {
  constructor(
    readonly unscaled: bigint,
    readonly scale: number,
  ) {}

  /** Plain decimal notation, never exponent: 12345n scale 2 → "123.45". */
  toString(): string {
    const negative = this.unscaled < 0n;
    const digits = (negative ? -this.unscaled : this.unscaled).toString();
    if (this.scale <= 0) return (negative ? '-' : '') + digits + '0'.repeat(-this.scale);
    const padded = digits.padStart(this.scale + 1, '0');
    const text = `${padded.slice(0, -this.scale)}.${padded.slice(-this.scale)}`;
    return (negative ? '-' : '') + text;
  }

  /** Parses "123.45" / "-0.5" / "7" into a Decimal with the given scale (rounding is refused). */
  static parse(text: string, scale: number): Decimal {
    const m = /^([+-])?(\d*)(?:\.(\d*))?$/.exec(text.trim());
    if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new RangeError(`not a decimal: ${JSON.stringify(text)}`);
    const frac = m[3] ?? '';
    if (frac.length > scale && /[1-9]/.test(frac.slice(scale))) {
      throw new RangeError(`${text} has more than ${scale} decimal places`);
    }
    const unscaled = BigInt((m[2] || '0') + frac.slice(0, scale).padEnd(scale, '0'));
    return new Decimal(m[1] === '-' ? -unscaled : unscaled, scale);
  }

  toJSON(): string {
    return this.toString();
  }
}

/** An Avro `date`: whole days since 1970-01-01. */
export class AvroDate {
  constructor(readonly days: number) {}

  /** ISO calendar date, e.g. 2026-11-28. */
  toString(): string {
    return new Date(this.days * 86_400_000).toISOString().slice(0, 10);
  }

  /** Midnight UTC of that day. */
  toDate(): Date {
    return new Date(this.days * 86_400_000);
  }

  toJSON(): string {
    return this.toString();
  }
}
