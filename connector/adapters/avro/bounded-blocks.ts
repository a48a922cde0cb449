/**
 * avsc (5.7.9, the latest) trusts the block counts and sizes of arrays and maps: a corrupted
 * count of billions makes reading loop until memory runs out and skipping loop for hours, and a
 * negative block size steps back and re-reads the same block forever. One bad message would stop
 * its partition and starve the process. Importing this module replaces avsc's four block loops
 * (array and map, read and skip; resolvers reuse the readers) with ones that check each block
 * before looping, so such a value fails at once like any other bad bytes.
 */
import avro from 'avsc';

/** The part of avsc's private byte cursor the loops use. */
interface Tap {
  buf: Buffer;
  pos: number;
  readLong(): number;
  skipLong(): void;
  readString(): string;
  skipString(): void;
}

/** An array's item type or a map's value type (or their resolvers). */
interface Entry {
  _read(tap: Tap): unknown;
  _skip(tap: Tap): void;
}

/**
 * The most entries a block may declare beyond the bytes left. Every entry of a non-null type
 * takes at least one byte, so only entries that take none (nulls, empty records) can be more;
 * past this bound a count is taken as corrupt rather than as that many nulls.
 */
const MAX_ENTRIES_BEYOND_BYTES = 65_536;

/** The bytes left after the cursor, as the count check phrases them. */
function bytesLeftText(left: number): string {
  return left === 1 ? '1 byte is' : `${left} bytes are`;
}

/** Throws unless a block of `count` entries can fit the bytes left. */
function checkCount(tap: Tap, count: number): void {
  const left = tap.buf.length - tap.pos;
  if (count > left && count > MAX_ENTRIES_BEYOND_BYTES) {
    throw new Error(`a block says ${count} entries follow, but only ${bytesLeftText(Math.max(left, 0))} left`);
  }
}

/** The next block's entry count (0 at the end); a negative count carries the block's byte size, skipped here. */
function readCount(tap: Tap): number {
  let count = tap.readLong();
  if (count < 0) {
    count = -count;
    tap.skipLong();
  }
  checkCount(tap, count);
  return count;
}

/**
 * Skips the blocks of one array or map (`keyed`: each entry starts with a key string); a block
 * that carries its byte size is jumped over whole.
 */
function skipBlocks(tap: Tap, entry: Entry, keyed: boolean): void {
  let count: number;
  while ((count = tap.readLong())) {
    if (count < 0) {
      const size = tap.readLong();
      if (size < 0) throw new Error(`a block says its entries take ${size} bytes`);
      tap.pos += size;
      continue;
    }
    checkCount(tap, count);
    while (count--) {
      if (keyed) tap.skipString();
      entry._skip(tap);
    }
  }
}

function readArray(this: { itemsType: Entry }, tap: Tap): unknown[] {
  const items = this.itemsType;
  const values: unknown[] = [];
  let count: number;
  while ((count = readCount(tap))) {
    while (count--) values.push(items._read(tap));
  }
  return values;
}

function skipArray(this: { itemsType: Entry }, tap: Tap): void {
  skipBlocks(tap, this.itemsType, false);
}

function readMap(this: { valuesType: Entry }, tap: Tap): Record<string, unknown> {
  const values = this.valuesType;
  const map: Record<string, unknown> = {};
  let count: number;
  while ((count = readCount(tap))) {
    while (count--) {
      const key = tap.readString();
      map[key] = values._read(tap);
    }
  }
  return map;
}

function skipMap(this: { valuesType: Entry }, tap: Tap): void {
  skipBlocks(tap, this.valuesType, true);
}

type Loops = { _read: unknown; _skip: unknown };
Object.assign(avro.types.ArrayType.prototype as unknown as Loops, { _read: readArray, _skip: skipArray });
Object.assign(avro.types.MapType.prototype as unknown as Loops, { _read: readMap, _skip: skipMap });
