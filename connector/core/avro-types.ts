/**
 * The Avro logical types that turn raw Avro values into the shapes of `values.ts`, and accept
 * JSON-friendly input (ISO strings, epoch numbers, "12.34") when encoding so that sample events
 * written by hand can be turned into Avro bytes.
 */
import avro, { type Type } from 'avsc';
import { AvroDate, Decimal } from './values.js';

const MS_PER_DAY = 86_400_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Epoch milliseconds of an ISO string, or undefined when it is not a date. */
function parseInstant(text: string): number | undefined {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

function isLogical(type: Type, ...names: string[]): boolean {
  return names.some((name) => type.typeName === `logical:${name}`);
}

/** timestamp-millis and local-timestamp-millis: a long of epoch milliseconds ↔ Date. */
class TimestampMillisType extends avro.types.LogicalType {
  protected override _fromValue(millis: number): Date {
    return new Date(millis);
  }

  protected override _toValue(value: unknown): number | undefined {
    if (value instanceof Date) return value.getTime();
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (typeof value === 'string') return parseInstant(value);
    return undefined;
  }

  protected override _resolve(writer: Type): ((value: unknown) => unknown) | undefined {
    // A writer timestamp of either precision already produced a Date.
    if (isLogical(writer, ...TIMESTAMP_NAMES)) return (value) => value;
    if (writer.typeName === 'long' || writer.typeName === 'int') return (value) => this._fromValue(value as number);
    return undefined;
  }
}

/** timestamp-micros and local-timestamp-micros: epoch microseconds ↔ Date (truncated to millis). */
class TimestampMicrosType extends avro.types.LogicalType {
  protected override _fromValue(micros: number): Date {
    return new Date(Math.floor(micros / 1000));
  }

  /** Plain numbers are the Avro value itself: microseconds. */
  protected override _toValue(value: unknown): number | undefined {
    if (value instanceof Date) return value.getTime() * 1000;
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (typeof value === 'string') {
      const ms = parseInstant(value);
      return ms === undefined ? undefined : ms * 1000;
    }
    return undefined;
  }

  protected override _resolve(writer: Type): ((value: unknown) => unknown) | undefined {
    if (isLogical(writer, ...TIMESTAMP_NAMES)) return (value) => value;
    if (writer.typeName === 'long' || writer.typeName === 'int') return (value) => this._fromValue(value as number);
    return undefined;
  }
}

const TIMESTAMP_NAMES = ['timestamp-millis', 'timestamp-micros', 'local-timestamp-millis', 'local-timestamp-micros'];

/** date: an int of days since the epoch ↔ AvroDate. */
class DateType extends avro.types.LogicalType {
  protected override _fromValue(days: number): AvroDate {
    return new AvroDate(days);
  }

  protected override _toValue(value: unknown): number | undefined {
    if (value instanceof AvroDate) return value.days;
    if (value instanceof Date) return Math.floor(value.getTime() / MS_PER_DAY);
    if (typeof value === 'number' && Number.isInteger(value)) return value;
    if (typeof value === 'string') {
      const ms = parseInstant(value);
      return ms === undefined ? undefined : Math.floor(ms / MS_PER_DAY);
    }
    return undefined;
  }

  protected override _resolve(writer: Type): ((value: unknown) => unknown) | undefined {
    if (isLogical(writer, 'date')) return (value) => value;
    if (writer.typeName === 'int') return (value) => this._fromValue(value as number);
    return undefined;
  }
}

/** decimal on bytes or fixed: big-endian two's complement unscaled integer ↔ Decimal. */
class DecimalType extends avro.types.LogicalType {
  readonly precision: number;
  readonly scale: number;
  /** Byte size when the underlying type is fixed; undefined for bytes. */
  private readonly fixedSize: number | undefined;

  constructor(schema: avro.Schema, opts?: unknown) {
    super(schema, opts);
    const attrs = schema as { precision?: unknown; scale?: unknown };
    const precision = attrs.precision;
    const scale = attrs.scale ?? 0;
    if (typeof precision !== 'number' || !Number.isInteger(precision) || precision < 1) {
      throw new Error(`decimal needs a positive integer precision, got ${JSON.stringify(precision)}`);
    }
    if (typeof scale !== 'number' || !Number.isInteger(scale) || scale < 0 || scale > precision) {
      throw new Error(`decimal scale must be an integer between 0 and the precision, got ${JSON.stringify(scale)}`);
    }
    this.precision = precision;
    this.scale = scale;
    const underlying = this.underlyingType as Type & { size?: number };
    this.fixedSize = underlying.typeName === 'fixed' ? underlying.size : undefined;
  }

  protected override _fromValue(bytes: Uint8Array): Decimal {
    return new Decimal(decodeTwosComplement(bytes), this.scale);
  }

  protected override _toValue(value: unknown): Uint8Array | undefined {
    let decimal: Decimal;
    try {
      if (value instanceof Decimal) {
        decimal = value.scale === this.scale ? value : Decimal.parse(value.toString(), this.scale);
      } else if (typeof value === 'string') {
        decimal = Decimal.parse(value, this.scale);
      } else if (typeof value === 'number' && Number.isFinite(value)) {
        // Shortest round-trip text of the double, so 12.34 stays "12.34"; exponents are refused.
        decimal = Decimal.parse(String(value), this.scale);
      } else {
        return undefined;
      }
    } catch {
      return undefined;
    }
    const digits = (decimal.unscaled < 0n ? -decimal.unscaled : decimal.unscaled).toString();
    if (digits.length > this.precision) return undefined;
    const bytes = encodeTwosComplement(decimal.unscaled, this.fixedSize);
    // avsc writes only its own Buffers: let it make one from the bytes' JSON form.
    return bytes && (this.underlyingType.clone({ type: 'Buffer', data: Array.from(bytes) }, { coerceBuffers: true }) as Uint8Array);
  }

  protected override _resolve(writer: Type): ((value: unknown) => unknown) | undefined {
    if (writer instanceof DecimalType) {
      return writer.scale === this.scale ? (value) => value : undefined;
    }
    const name = writer.typeName;
    if (name === 'bytes' || (name === 'fixed' && (writer as Type & { size?: number }).size === this.fixedSize)) {
      return (value) => this._fromValue(value as Uint8Array);
    }
    return undefined;
  }

  protected override _export(schema: avro.Schema): void {
    Object.assign(schema as object, { precision: this.precision, scale: this.scale });
  }
}

/** uuid on string: passes the text through, but only accepts canonical UUIDs when encoding. */
class UuidType extends avro.types.LogicalType {
  protected override _fromValue(text: string): string {
    return text;
  }

  protected override _toValue(value: unknown): string | undefined {
    return typeof value === 'string' && UUID.test(value) ? value : undefined;
  }

  protected override _resolve(writer: Type): ((value: unknown) => unknown) | undefined {
    return writer.typeName === 'string' || isLogical(writer, 'uuid') ? (value) => value : undefined;
  }
}

/** Reads a big-endian two's complement integer of any length. */
function decodeTwosComplement(bytes: Uint8Array): bigint {
  if (bytes.length === 0) return 0n;
  // Six bytes are exact in a double: the common case (amounts up to 2^47) takes one conversion to
  // bigint, wider values one shift per six bytes.
  const head = bytes.length % 6 || 6;
  let unsigned = BigInt(readUnsigned(bytes, 0, head));
  for (let start = head; start < bytes.length; start += 6) unsigned = (unsigned << 48n) | BigInt(readUnsigned(bytes, start, start + 6));
  const negative = (bytes[0] as number) & 0x80;
  return negative ? unsigned - (1n << BigInt(bytes.length * 8)) : unsigned;
}

/** The big-endian unsigned integer in `bytes[start, end)`; at most six bytes, so exact. */
function readUnsigned(bytes: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; i += 1) n = n * 256 + (bytes[i] as number);
  return n;
}

/** Writes the shortest two's complement form, or sign-extends it to `size` for fixed; undefined on overflow. */
function encodeTwosComplement(value: bigint, size: number | undefined): Uint8Array | undefined {
  let length = 1;
  while (value < -(1n << BigInt(length * 8 - 1)) || value >= 1n << BigInt(length * 8 - 1)) length += 1;
  if (size !== undefined) {
    if (length > size) return undefined;
    length = size;
  }
  let rest = value < 0n ? (1n << BigInt(length * 8)) + value : value;
  const bytes = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i -= 1) {
    bytes[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return bytes;
}

const LOGICAL_TYPES = {
  'timestamp-millis': TimestampMillisType,
  'local-timestamp-millis': TimestampMillisType,
  'timestamp-micros': TimestampMicrosType,
  'local-timestamp-micros': TimestampMicrosType,
  date: DateType,
  decimal: DecimalType,
  uuid: UuidType,
};

/**
 * Builds an avsc Type that decodes to the `values.ts` contract: unwrapped unions (paths see
 * through them), logical types as Date / AvroDate / Decimal, records without avsc's helper methods
 * (so a mapping path can never reach a method).
 */
export function parseAvroSchema(schema: unknown): Type {
  return avro.Type.forSchema(schema as avro.Schema, {
    wrapUnions: false,
    logicalTypes: LOGICAL_TYPES,
    omitRecordMethods: true,
  });
}
