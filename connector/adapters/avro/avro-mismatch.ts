/**
 * Finds where bytes stop being a value of an Avro schema, field by field, so a failed decode can
 * say which field and which byte. Only runs after avsc refused the bytes: it is thorough rather
 * than fast, and stricter than avsc where a value cannot be right (a boolean byte other than 0 or
 * 1, an int beyond 32 bits, text that is not UTF-8), because that is where misread bytes show.
 */
import { isUtf8 } from 'node:buffer';
import type { Type } from 'avsc';
import { avroTypeName, describeAvroType } from '../../core/avro-names.js';

/** The first place the bytes do not fit, or the bytes left over after a whole value. */
export type Mismatch = { kind: 'invalid'; detail: string } | { kind: 'trailing'; extra: number };

/** The parts of avsc's Type classes the walk reads. */
interface Shape {
  typeName: string;
  name?: string;
  fields?: { name: string; type: Shape }[];
  types?: Shape[];
  symbols?: string[];
  itemsType?: Shape;
  valuesType?: Shape;
  size?: number;
  underlyingType?: Shape;
}

/** The largest magnitude avsc reads into a long without losing precision (its isSafeLong). */
const MAX_SAFE_LONG = 9007199254740990;
/** A zig-zag varint of a 64-bit long takes at most 10 bytes. */
const MAX_VARINT_BYTES = 10;
const INT_RANGE = 2 ** 31;
/** Deeper than this, a type's least encoded size is taken to be one byte (recursive schemas). */
const MAX_SIZE_DEPTH = 32;
const MAP_KEY_PREVIEW = 40;

class Stop {
  constructor(readonly detail: string) {}
}

function bytesText(count: number): string {
  return count === 1 ? '1 byte' : `${count} bytes`;
}

function subject(field: string): string {
  return field === '' ? 'the value' : `field ${field}`;
}

/** The fewest bytes a value of `type` takes, to tell an impossible block count early. */
function leastSize(type: Shape, depth = 0): number {
  if (depth > MAX_SIZE_DEPTH) return 1;
  switch (type.typeName) {
    case 'null':
      return 0;
    case 'float':
      return 4;
    case 'double':
      return 8;
    case 'fixed':
      return type.size ?? 0;
    case 'record':
    case 'error':
      return (type.fields ?? []).reduce((sum, f) => sum + leastSize(f.type, depth + 1), 0);
    default:
      return type.typeName.startsWith('logical:') && type.underlyingType ? leastSize(type.underlyingType, depth + 1) : 1;
  }
}

/** A cursor over the bytes; `base` is where they start in the Kafka value (after a framing header). */
class Walk {
  pos = 0;
  constructor(
    private readonly bytes: Buffer,
    private readonly base: number,
  ) {}

  private at(pos: number): number {
    return this.base + pos;
  }

  private need(count: number, what: string, field: string, start: number): void {
    if (this.pos + count > this.bytes.length) {
      throw new Stop(`expected ${what} for ${subject(field)} at byte ${this.at(start)}, but the value has only ${bytesText(this.at(this.bytes.length))}`);
    }
  }

  private varint(what: string, field: string): number {
    const start = this.pos;
    let result = 0;
    let factor = 1;
    for (let count = 0; ; count += 1) {
      this.need(1, what, field, start);
      if (count === MAX_VARINT_BYTES) {
        throw new Stop(
          `expected ${what} for ${subject(field)} at byte ${this.at(start)}, but the bytes there do not end a number within ${MAX_VARINT_BYTES} bytes`,
        );
      }
      const byte = this.bytes[this.pos++] as number;
      result += (byte & 0x7f) * factor;
      factor *= 128;
      if (byte < 0x80) break;
    }
    return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
  }

  private length(what: string, field: string): number {
    const start = this.pos;
    const length = this.varint(what, field);
    if (length < 0) throw new Stop(`expected ${what} for ${subject(field)} at byte ${this.at(start)}, but its length is negative (${length})`);
    this.need(length, `${what} of ${bytesText(length)}`, field, start);
    return length;
  }

  private text(what: string, field: string): string {
    const start = this.pos;
    const length = this.length(what, field);
    const bytes = this.bytes.subarray(this.pos, this.pos + length);
    if (!isUtf8(bytes))
      throw new Stop(`expected ${what} for ${subject(field)} at byte ${this.at(start)}, but its text (${bytesText(length)}) is not valid UTF-8`);
    this.pos += length;
    return bytes.toString('utf8');
  }

  private blocks(type: Shape, item: Shape, field: string, read: (index: number) => void): void {
    const least = leastSize(item);
    const what = type.typeName === 'map' ? 'a map block count' : 'an array block count';
    for (let index = 0; ;) {
      const start = this.pos;
      let count = this.varint(what, field);
      if (count === 0) return;
      if (count < 0) {
        count = -count;
        this.varint('a block size in bytes', field);
      }
      const left = this.bytes.length - this.pos;
      if (least > 0 && count * least > left) {
        throw new Stop(
          `${subject(field)} at byte ${this.at(start)} says ${count} entries follow, but only ${bytesText(left)} ${left === 1 ? 'is' : 'are'} left`,
        );
      }
      // Entries that take no bytes (nulls) cannot be misread: only their count matters.
      if (least === 0) continue;
      for (let end = index + count; index < end; index += 1) read(index);
    }
  }

  /** Reads one value of `type` (the value at `field`); throws Stop where the bytes do not fit. */
  value(type: Shape, field: string): void {
    const { typeName } = type;
    if (typeName.startsWith('logical:') && type.underlyingType) return this.value(type.underlyingType, field);
    const start = this.pos;
    switch (typeName) {
      case 'null':
        return;
      case 'boolean': {
        this.need(1, 'a boolean', field, start);
        const byte = this.bytes[this.pos++] as number;
        if (byte > 1) throw new Stop(`${subject(field)} at byte ${this.at(start)} is 0x${byte.toString(16).padStart(2, '0')}, not a boolean (0 or 1)`);
        return;
      }
      case 'int': {
        const n = this.varint('an int', field);
        if (n < -INT_RANGE || n >= INT_RANGE) throw new Stop(`${subject(field)} at byte ${this.at(start)} holds ${n}, too large for an int`);
        return;
      }
      case 'long': {
        const n = this.varint('a long', field);
        if (Math.abs(n) > MAX_SAFE_LONG) throw new Stop(`${subject(field)} at byte ${this.at(start)} holds a long beyond ±2^53, which cannot be read exactly`);
        return;
      }
      case 'float':
      case 'double': {
        const size = typeName === 'float' ? 4 : 8;
        this.need(size, `a ${typeName} (${size} bytes)`, field, start);
        this.pos += size;
        return;
      }
      case 'string':
        this.text('a string', field);
        return;
      case 'bytes':
        this.pos += this.length('bytes', field);
        return;
      case 'fixed': {
        const size = type.size ?? 0;
        this.need(size, `${describeAvroType(type as unknown as Type)} (${size} bytes)`, field, start);
        this.pos += size;
        return;
      }
      case 'enum': {
        const index = this.varint('an enum index', field);
        const symbols = type.symbols ?? [];
        if (index < 0 || index >= symbols.length) {
          throw new Stop(
            `${subject(field)} at byte ${this.at(start)} has enum index ${index}, but enum ${type.name ?? ''} has ${symbols.length} symbols (${symbols.join(', ')})`,
          );
        }
        return;
      }
      case 'record':
      case 'error':
        for (const f of type.fields ?? []) this.value(f.type, field === '' ? f.name : `${field}.${f.name}`);
        return;
      case 'array': {
        const items = type.itemsType as Shape;
        this.blocks(type, items, field, (index) => this.value(items, `${field}[${index}]`));
        return;
      }
      case 'map': {
        const values = type.valuesType as Shape;
        this.blocks(type, values, field, () => {
          const key = this.text('a map key', field);
          const shown = key.length > MAP_KEY_PREVIEW ? `${key.slice(0, MAP_KEY_PREVIEW)}…` : key;
          this.value(values, `${field}[${JSON.stringify(shown)}]`);
        });
        return;
      }
      default: {
        if (!typeName.startsWith('union')) throw new Stop(`${subject(field)} has a type this check does not know (${typeName})`);
        const branches = type.types ?? [];
        const index = this.varint('a union branch index', field);
        const branch = branches[index];
        if (index < 0 || branch === undefined) {
          const names = branches.map((b) => avroTypeName(b as unknown as Type)).join(', ');
          throw new Stop(`${subject(field)} at byte ${this.at(start)} has union branch ${index}, but its type has ${branches.length} branches (${names})`);
        }
        this.value(branch, field);
      }
    }
  }
}

/**
 * Walks `bytes` as one value of `type`. Returns where and why they do not fit, the bytes left over
 * after a whole value, or undefined when the walk finds nothing wrong. `base` is added to every
 * byte position, so positions count from the start of the Kafka value.
 */
export function findMismatch(type: Type, bytes: Buffer, base = 0): Mismatch | undefined {
  const walk = new Walk(bytes, base);
  try {
    walk.value(type as unknown as Shape, '');
  } catch (err) {
    if (err instanceof Stop) return { kind: 'invalid', detail: err.detail };
    // A walk that breaks on its own must not hide the decode failure it was asked about.
    return undefined;
  }
  return walk.pos < bytes.length ? { kind: 'trailing', extra: bytes.length - walk.pos } : undefined;
}
