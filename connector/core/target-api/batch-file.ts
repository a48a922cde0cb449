/**
 * Builds the batch files of Target's Bulk Profile Update API v2: the header
 * `batch=thirdPartyId,<name>,…`, then one row of percent-encoded cells per profile, every line
 * ending in `\n`. Pure. Sized for half a million rows: each row is encoded once, kept as one
 * string, and the file's exact size is tracked as rows join, so nothing is rebuilt per row.
 */
import { UnmappableEventError } from '../errors.js';
import { encodeComponent } from './encoding.js';
import { MAX_BATCH_FILE_BYTES, MAX_BATCH_ROWS, MAX_THIRD_PARTY_ID_LENGTH } from './limits.js';

/** One profile's row: its thirdPartyId and attributes (names without `profile.`). */
export interface BatchRow {
  id: string;
  attributes: Readonly<Record<string, string>>;
}

/** A batch file ready to send. */
export interface BatchFile {
  /** The whole file, header first, every line ending in `\n`. */
  text: string;
  /** UTF-8 length of `text` (it is ASCII, so also its string length). */
  bytes: number;
  /** Each row's thirdPartyId, in file order. */
  ids: string[];
}

/** How large one file may grow; Target's limits unless given. */
export interface BatchFileLimits {
  /** Most rows in one file. */
  maxRows?: number;
  /** A file must be strictly smaller than this many bytes. */
  maxBytes?: number;
}

const HEADER = 'batch=thirdPartyId';
const ID_LABEL = 'thirdPartyId';

/** A row encoded for one builder state: what it adds, so `add` after `fits` encodes nothing twice. */
interface PreparedRow {
  row: BatchRow;
  /** The builder's row count when prepared; a row prepared for an older state is prepared again. */
  preparedAt: number;
  id: string;
  /** Encoded cells by column index, new columns numbered after the known ones; a hole where the row sets nothing. */
  cells: string[];
  /** Attribute names the header does not have yet, and their encoded form. */
  newNames: string[];
  newEncodedNames: string[];
  /** Size of the file with this row added. */
  bytesAfter: number;
}

/**
 * Builds one batch file incrementally, knowing its exact size in bytes as rows are added. An empty
 * value leaves its parameter unset, so it adds no column and its cell stays empty. Text that is not
 * well-formed Unicode (a lone surrogate) cannot be encoded: `fits` and `add` throw
 * UnmappableEventError for it, and `fitsAlone` says false.
 */
export class BatchFileBuilder {
  private readonly maxRows: number;
  private readonly maxBytes: number;
  private readonly columns = new Map<string, number>();
  private readonly encodedNames: string[] = [];
  /** Each row's cells joined, as many as the header had columns when the row joined. */
  private readonly lines: string[] = [];
  /** Header width (attribute columns) when each row joined; `build` pads the rest with commas. */
  private readonly widths: number[] = [];
  private readonly ids: string[] = [];
  private readonly rowOf = new Map<string, number>();
  /** The header line with its `\n`. */
  private headerBytes = HEADER.length + 1;
  /** Every row line with its `\n`, padded to the current header width. */
  private rowBytes = 0;
  private prepared: PreparedRow | undefined;

  constructor(limits: BatchFileLimits = {}) {
    this.maxRows = limits.maxRows ?? MAX_BATCH_ROWS;
    this.maxBytes = limits.maxBytes ?? MAX_BATCH_FILE_BYTES;
  }

  /** Whether `row` can join this file without breaking a limit (rows, bytes; a new column grows every row by one comma). */
  fits(row: BatchRow): boolean {
    return this.ids.length + 1 <= this.maxRows && this.prepare(row).bytesAfter < this.maxBytes;
  }

  /** Adds a row; throws RangeError when it does not fit (call fits first), and Error for a second row of one thirdPartyId. */
  add(row: BatchRow): void {
    const earlier = this.rowOf.get(row.id);
    if (earlier !== undefined) {
      throw new Error(`a batch file holds one row per thirdPartyId; row ${this.ids.length + 1} repeats the thirdPartyId of row ${earlier + 1}`);
    }
    const prepared = this.prepare(row);
    if (this.ids.length + 1 > this.maxRows || prepared.bytesAfter >= this.maxBytes) {
      throw new RangeError(
        `the row does not fit: the batch file would have ${this.ids.length + 1} rows and ${prepared.bytesAfter} bytes; ` +
          `limits are ${this.maxRows} rows and under ${this.maxBytes} bytes`,
      );
    }
    this.addColumns(prepared);
    this.rowOf.set(row.id, this.ids.length);
    this.ids.push(row.id);
    this.lines.push(lineOf(prepared));
    this.widths.push(this.encodedNames.length);
    this.rowBytes = prepared.bytesAfter - this.headerBytes;
    this.prepared = undefined;
  }

  /**
   * Puts `row` in place of the row of its thirdPartyId (a profile's later updates folded into its
   * row), keeping the row's position; false, changing nothing, when the file would break a limit.
   * Throws when the file has no row of that id, and UnmappableEventError like `add`.
   */
  replace(row: BatchRow): boolean {
    const index = this.rowOf.get(row.id);
    if (index === undefined) throw new Error(`the batch file has no row for thirdPartyId ${row.id} to replace`);
    const prepared = this.prepare(row);
    const width = this.encodedNames.length + prepared.newNames.length;
    // prepare() counts the row as one more line: the old line, padded to the new width, goes instead.
    const oldLineBytes = (this.lines[index] as string).length + width - (this.widths[index] as number) + 1;
    const bytesAfter = prepared.bytesAfter - oldLineBytes;
    if (bytesAfter >= this.maxBytes) return false;
    this.addColumns(prepared);
    this.lines[index] = lineOf(prepared);
    this.widths[index] = this.encodedNames.length;
    this.rowBytes = bytesAfter - this.headerBytes;
    this.prepared = undefined;
    return true;
  }

  /** Rows added so far. */
  get rows(): number {
    return this.ids.length;
  }

  /** Exact byte length (UTF-8) of the file `build()` would return now. */
  get bytes(): number {
    return this.headerBytes + this.rowBytes;
  }

  /** The file with every row added so far; throws RangeError while it has none (Target refuses a file without rows). */
  build(): BatchFile {
    if (this.ids.length === 0) throw new RangeError('a batch file needs at least one row');
    const width = this.encodedNames.length;
    const parts = new Array<string>(this.lines.length + 2);
    parts[0] = width === 0 ? HEADER : `${HEADER},${this.encodedNames.join(',')}`;
    const padding: string[] = [];
    for (let i = 0; i < this.lines.length; i++) {
      const missing = width - (this.widths[i] as number);
      parts[i + 1] = missing === 0 ? (this.lines[i] as string) : (this.lines[i] as string) + (padding[missing] ??= ','.repeat(missing));
    }
    parts[this.lines.length + 1] = '';
    return { text: parts.join('\n'), bytes: this.bytes, ids: this.ids.slice() };
  }

  /** Adds the header columns a prepared row introduces. */
  private addColumns(prepared: PreparedRow): void {
    prepared.newNames.forEach((name, i) => {
      this.columns.set(name, this.encodedNames.length);
      this.encodedNames.push(prepared.newEncodedNames[i] as string);
    });
    this.headerBytes += sumEncodedNames(prepared.newEncodedNames);
  }

  /** Encodes `row` against the current header, reusing the work `fits` just did for the same row. */
  private prepare(row: BatchRow): PreparedRow {
    const cached = this.prepared;
    if (cached && cached.row === row && cached.preparedAt === this.ids.length) return cached;
    const id = encodeComponent(row.id, ID_LABEL);
    const cells: string[] = [];
    const newNames: string[] = [];
    const newEncodedNames: string[] = [];
    let cellBytes = 0;
    const { attributes } = row;
    for (const name in attributes) {
      const value = attributes[name] as string;
      if (value === '') continue;
      const encoded = encodeComponent(value, name);
      let column = this.columns.get(name);
      if (column === undefined) {
        column = this.encodedNames.length + newNames.length;
        newNames.push(name);
        newEncodedNames.push(encodeComponent(name, name));
      }
      cells[column] = encoded;
      cellBytes += encoded.length;
    }
    const added = newNames.length;
    const width = this.encodedNames.length + added;
    cells.length = width;
    // Percent-encoded text is ASCII, so string lengths are byte lengths.
    const bytesAfter = this.headerBytes + sumEncodedNames(newEncodedNames) + this.rowBytes + this.ids.length * added + id.length + width + cellBytes + 1;
    const prepared: PreparedRow = { row, preparedAt: this.ids.length, id, cells, newNames, newEncodedNames, bytesAfter };
    this.prepared = prepared;
    return prepared;
  }
}

/**
 * Whether a single row could ever be sent by bulk: it alone fits the limits, its thirdPartyId is
 * valid (non-empty, at most 256 characters, no `+` or `/`), its attribute names are not empty and
 * its text is well-formed Unicode. Target refuses a whole file for one bad row, so a row failing
 * this must go by single update (which reports the problem for that event alone).
 */
export function fitsAlone(row: BatchRow, limits?: BatchFileLimits): boolean {
  const { id } = row;
  // Counted in UTF-16 units, which never undercount characters: whatever Target counts, it accepts the id.
  if (id === '' || id.length > MAX_THIRD_PARTY_ID_LENGTH || id.includes('+') || id.includes('/')) return false;
  if ((row.attributes[''] ?? '') !== '') return false;
  if (surelyFitsAlone(row, limits)) return true;
  try {
    return new BatchFileBuilder(limits).fits(row);
  } catch (error) {
    if (error instanceof UnmappableEventError) return false;
    throw error;
  }
}

/** Most bytes one UTF-16 unit can become: a 3-byte character, each byte written as `%XX`. */
const MAX_ENCODED_PER_UNIT = 9;

/**
 * Whether the row fits without encoding it: well-formed text whose worst-case encoded size is
 * under the limit. Most rows are far below it, and this is on the path of every bulk row.
 */
function surelyFitsAlone(row: BatchRow, limits?: BatchFileLimits): boolean {
  if ((limits?.maxRows ?? MAX_BATCH_ROWS) < 1 || !isWellFormed(row.id)) return false;
  let units = HEADER.length + 2 + row.id.length * MAX_ENCODED_PER_UNIT;
  for (const name in row.attributes) {
    const value = row.attributes[name] as string;
    if (!isWellFormed(name) || !isWellFormed(value)) return false;
    units += 2 + (name.length + value.length) * MAX_ENCODED_PER_UNIT;
  }
  return units < (limits?.maxBytes ?? MAX_BATCH_FILE_BYTES);
}

/** String.prototype.isWellFormed (Node 20; not in the ES2023 lib the project compiles against). */
const isWellFormed = (text: string): boolean => (text as string & { isWellFormed(): boolean }).isWellFormed();

/** A prepared row's line; join() writes holes as empty strings: exactly the empty cells a row leaves unset. */
function lineOf(prepared: PreparedRow): string {
  return prepared.cells.length === 0 ? prepared.id : `${prepared.id},${prepared.cells.join(',')}`;
}

/** Header bytes the encoded names add: a comma and the name each. */
function sumEncodedNames(encodedNames: readonly string[]): number {
  let bytes = 0;
  for (const name of encodedNames) bytes += 1 + name.length;
  return bytes;
}
