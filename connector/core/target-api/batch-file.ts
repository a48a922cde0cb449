/**
 * Builds the batch files of Target's Bulk Profile Update API v2: the header
 * `batch=thirdPartyId,<name>,…`, then one row of percent-encoded cells per profile, every line
 * ending in `\n`. Pure. Sized for half a million rows: the file's exact size is tracked as rows
 * join and fold, and each row is encoded once, when the file is built.
 */
import { UnmappableEventError } from '../errors.js';
import { encodeComponent, encodedLength } from './encoding.js';
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

/** What some attributes add to the file as it stands: their cells and the columns they need. */
interface Measured {
  /** Encoded length of every cell the attributes set (and of the id, for a row; no commas, no newline). */
  length: number;
  /** Each cell's encoded length by column, new columns numbered after the known ones. */
  cells: number[];
  /** Attribute names the header does not have yet, and their encoded form. */
  newNames: string[];
  newEncodedNames: string[];
}

/** What a row adds to one builder state, so that `add` after `fits` measures nothing twice. */
interface PreparedRow extends Measured {
  row: BatchRow;
  /** The builder's row count when prepared; a row prepared for an older state is prepared again. */
  preparedAt: number;
  /** Size of the file with this row added. */
  bytesAfter: number;
}

/** One row of the file: its attributes as they stand (folds merge into them) and their encoded length. */
interface Entry {
  id: string;
  attributes: Record<string, string>;
  /** Whether `attributes` is the builder's own copy, which folds may change; the caller's object is copied at the first fold. */
  owned: boolean;
  /** Encoded length of the id and of every cell the row sets (no commas, no newline). */
  length: number;
  /** Each cell's encoded length by column (a hole where the row sets nothing): a fold measures only the new values. */
  cells: number[];
}

/**
 * Builds one batch file incrementally, knowing its exact size in bytes as rows are added and
 * folded, and encoding each row once, when the file is built: a backlog folds many updates into
 * one row, and a row encoded at every fold would cost more than reading the event. An empty value
 * leaves its parameter unset, so it adds no column and its cell stays empty. Text that is not
 * well-formed Unicode (a lone surrogate) cannot be encoded: `fits` and `add` throw
 * UnmappableEventError for it, `fold` refuses it, and `fitsAlone` says false.
 */
export class BatchFileBuilder {
  private readonly maxRows: number;
  private readonly maxBytes: number;
  private readonly columns = new Map<string, number>();
  private readonly encodedNames: string[] = [];
  private readonly entries: Entry[] = [];
  private readonly rowOf = new Map<string, number>();
  /** The header line with its `\n`. */
  private headerBytes = HEADER.length + 1;
  /** Every row's encoded id and cells with its `\n`; the commas (one per column a row) are counted apart. */
  private lineBytes = 0;
  private prepared: PreparedRow | undefined;
  /** Scratch of `fold`: the columns an update sets and their cells' encoded lengths. */
  private readonly foldColumns: number[] = [];
  private readonly foldCells: number[] = [];

  constructor(limits: BatchFileLimits = {}) {
    this.maxRows = limits.maxRows ?? MAX_BATCH_ROWS;
    this.maxBytes = limits.maxBytes ?? MAX_BATCH_FILE_BYTES;
  }

  /** Whether `row` can join this file without breaking a limit (rows, bytes; a new column grows every row by one comma). */
  fits(row: BatchRow): boolean {
    return this.entries.length + 1 <= this.maxRows && this.prepare(row).bytesAfter < this.maxBytes;
  }

  /** Adds a row; throws RangeError when it does not fit (call fits first), and Error for a second row of one thirdPartyId. */
  add(row: BatchRow): void {
    const earlier = this.rowOf.get(row.id);
    if (earlier !== undefined) {
      throw new Error(`a batch file holds one row per thirdPartyId; row ${this.entries.length + 1} repeats the thirdPartyId of row ${earlier + 1}`);
    }
    const prepared = this.prepare(row);
    if (this.entries.length + 1 > this.maxRows || prepared.bytesAfter >= this.maxBytes) {
      throw new RangeError(
        `the row does not fit: the batch file would have ${this.entries.length + 1} rows and ${prepared.bytesAfter} bytes; ` +
          `limits are ${this.maxRows} rows and under ${this.maxBytes} bytes`,
      );
    }
    this.addColumns(prepared.newNames, prepared.newEncodedNames);
    this.rowOf.set(row.id, this.entries.length);
    this.entries.push({ id: row.id, attributes: row.attributes as Record<string, string>, owned: false, length: prepared.length, cells: prepared.cells });
    this.lineBytes += prepared.length + 1;
    this.prepared = undefined;
  }

  /**
   * Merges a later update into the row of `id` (later value wins per attribute), keeping the
   * row's place; false, changing nothing, when the file would break a limit or the update could
   * not go by bulk (an empty attribute name, text that is not well-formed Unicode). Throws when
   * the file has no row of that id.
   */
  fold(id: string, attributes: Readonly<Record<string, string>>): boolean {
    const index = this.rowOf.get(id);
    if (index === undefined) throw new Error(`the batch file has no row for thirdPartyId ${id} to fold into`);
    const entry = this.entries[index] as Entry;
    // One pass measures the update into reused scratch arrays (a backlog folds once per event), a second applies it.
    const { foldColumns, foldCells } = this;
    let newNames: string[] | undefined;
    let newEncodedNames: string[] | undefined;
    let count = 0;
    let delta = 0;
    for (const name in attributes) {
      const value = attributes[name] as string;
      let column = this.columns.get(name);
      if (column === undefined) {
        if (value === '') continue;
        if (name === '') return false;
        newNames ??= [];
        newEncodedNames ??= [];
        column = this.encodedNames.length + newNames.length;
        newNames.push(name);
        newEncodedNames.push(encodeComponent(name, name));
      }
      let cell = 0;
      if (value !== '') {
        try {
          cell = encodedLength(value, name);
        } catch (error) {
          if (error instanceof UnmappableEventError) return false;
          throw error;
        }
      }
      delta += cell - (entry.cells[column] ?? 0);
      foldColumns[count] = column;
      foldCells[count] = cell;
      count++;
    }
    const added = newNames?.length ?? 0;
    if (this.bytes + sumEncodedNames(newEncodedNames ?? []) + this.entries.length * added + delta >= this.maxBytes) return false;
    if (newNames && newEncodedNames) this.addColumns(newNames, newEncodedNames);
    for (let i = 0; i < count; i++) entry.cells[foldColumns[i] as number] = foldCells[i] as number;
    if (!entry.owned) {
      entry.attributes = { ...entry.attributes };
      entry.owned = true;
    }
    Object.assign(entry.attributes, attributes);
    entry.length += delta;
    this.lineBytes += delta;
    this.prepared = undefined;
    return true;
  }

  /** The attributes the row of `id` sets now, folds included. */
  attributesOf(id: string): Readonly<Record<string, string>> | undefined {
    const index = this.rowOf.get(id);
    return index === undefined ? undefined : this.entries[index]?.attributes;
  }

  /** Rows added so far. */
  get rows(): number {
    return this.entries.length;
  }

  /** Exact byte length (UTF-8) of the file `build()` would return now. */
  get bytes(): number {
    return this.headerBytes + this.lineBytes + this.entries.length * this.encodedNames.length;
  }

  /** The file with every row added so far; throws RangeError while it has none (Target refuses a file without rows). */
  build(): BatchFile {
    if (this.entries.length === 0) throw new RangeError('a batch file needs at least one row');
    const width = this.encodedNames.length;
    const parts = new Array<string>(this.entries.length + 2);
    parts[0] = width === 0 ? HEADER : `${HEADER},${this.encodedNames.join(',')}`;
    const cells = new Array<string>(width);
    for (let i = 0; i < this.entries.length; i++) {
      const { id, attributes } = this.entries[i] as Entry;
      cells.fill('');
      for (const name in attributes) {
        const value = attributes[name] as string;
        if (value !== '') cells[this.columns.get(name) as number] = encodeComponent(value, name);
      }
      const encodedId = encodeComponent(id, ID_LABEL);
      parts[i + 1] = width === 0 ? encodedId : `${encodedId},${cells.join(',')}`;
    }
    parts[this.entries.length + 1] = '';
    return { text: parts.join('\n'), bytes: this.bytes, ids: this.entries.map((e) => e.id) };
  }

  /** Adds header columns. */
  private addColumns(names: readonly string[], encodedNames: readonly string[]): void {
    names.forEach((name, i) => {
      this.columns.set(name, this.encodedNames.length);
      this.encodedNames.push(encodedNames[i] as string);
    });
    this.headerBytes += sumEncodedNames(encodedNames);
  }

  /** Measures `row` against the current header, reusing the work `fits` just did for the same row. */
  private prepare(row: BatchRow): PreparedRow {
    const cached = this.prepared;
    if (cached && cached.row === row && cached.preparedAt === this.entries.length) return cached;
    const measured = this.measure(row.attributes, encodedLength(row.id, ID_LABEL));
    const added = measured.newNames.length;
    // Percent-encoded text is ASCII, so lengths are byte lengths; the new row has a comma per column.
    const bytesAfter =
      this.bytes + sumEncodedNames(measured.newEncodedNames) + this.entries.length * added + measured.length + this.encodedNames.length + added + 1;
    const prepared = { ...measured, row, preparedAt: this.entries.length, bytesAfter };
    this.prepared = prepared;
    return prepared;
  }

  /** Encoded lengths of `attributes`' cells by column (an empty value: 0, no column) and of all of them plus `idLength`. */
  private measure(attributes: Readonly<Record<string, string>>, idLength: number): Measured {
    let length = idLength;
    const cells: number[] = [];
    const newNames: string[] = [];
    const newEncodedNames: string[] = [];
    for (const name in attributes) {
      const value = attributes[name] as string;
      let column = this.columns.get(name);
      if (value === '') {
        if (column !== undefined) cells[column] = 0;
        continue;
      }
      const cell = encodedLength(value, name);
      if (column === undefined) {
        column = this.encodedNames.length + newNames.length;
        newNames.push(name);
        newEncodedNames.push(encodeComponent(name, name));
      }
      cells[column] = cell;
      length += cell;
    }
    return { length, cells, newNames, newEncodedNames };
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

/** Header bytes the encoded names add: a comma and the name each. */
function sumEncodedNames(encodedNames: readonly string[]): number {
  let bytes = 0;
  for (const name of encodedNames) bytes += 1 + name.length;
  return bytes;
}
