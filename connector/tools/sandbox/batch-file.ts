/**
 * Reads and validates one Bulk Profile Update API v2 batch file the way the sandbox's Target does.
 * Pure. Linear in the file: indexOf per line, one split per row, no regular expressions and no
 * string building per row; only cells holding `%` or `+` go through the decoder.
 */
import { isUtf8 } from 'node:buffer';
import type { IdentityKind } from '../../core/profile.js';
import { identityProblem } from './update-request.js';

/** Largest file and most rows one batch may have; the sandbox defaults them to Target's. */
export interface BatchLimits {
  /** A file must be strictly smaller than this many bytes. */
  maxBytes: number;
  /** A file may have at most this many rows (the header and blank lines not counted). */
  maxRows: number;
}

/** A valid batch file, stored column-wise so half a million rows stay small. */
export interface BatchFile {
  /** Profile namespace of the identity column: thirdPartyId is mbox3rdPartyId, pcId is mboxPC. */
  kind: IdentityKind;
  /** The header after `batch=`, decoded: the identity column, then the parameter names. */
  header: string[];
  /** Parameter names, without `profile.`. */
  names: string[];
  /** Each row's identity, in file order. */
  ids: string[];
  /** Decoded cells, `names.length` per row in file order; an empty string leaves the parameter unset. */
  cells: string[];
}

export type ParsedBatchFile = { ok: true; file: BatchFile } | { ok: false; status: 400 | 413; message: string };

const HEADER_PREFIX = 'batch=';
const IDENTITY_COLUMNS: ReadonlyMap<string, IdentityKind> = new Map([
  ['thirdPartyId', 'mbox3rdPartyId'],
  ['pcId', 'mboxPC'],
]);
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 13;

/**
 * Checks an uploaded batch file: the size limit (`bytes` is undefined when the reader stopped
 * keeping an upload over it), UTF-8, the `batch=` header, the row limit, then every row. The first
 * problem found is reported with its line (1 is the header) and, for a cell, its column (1 is the
 * identity column).
 */
export function parseBatchFile(upload: { size: number; bytes: Buffer | undefined }, limits: BatchLimits): ParsedBatchFile {
  const { size, bytes } = upload;
  if (size >= limits.maxBytes || bytes === undefined) {
    return refuse(413, `batch file is ${size} bytes; it must be smaller than ${limits.maxBytes} bytes`);
  }
  if (!isUtf8(bytes)) return refuse(400, `line ${firstNonUtf8Line(bytes)}: not valid UTF-8`);
  const text = bytes.toString('utf8');

  const headerEnd = lineEnd(text, 0);
  const header = parseHeader(text.slice(0, contentEnd(text, 0, headerEnd)));
  if (!header.ok) return header;
  const rowCount = countRows(text, headerEnd + 1);
  if (rowCount > limits.maxRows) {
    return refuse(413, `batch file has ${rowCount} rows; at most ${limits.maxRows} are allowed`);
  }
  if (rowCount === 0) return refuse(400, 'batch file has a header but no rows');

  const { kind, columns } = header;
  const width = columns.length;
  const ids: string[] = [];
  const cells: string[] = [];
  let line = 1;
  for (let start = headerEnd + 1, next = start; start < text.length; start = next) {
    line++;
    const newline = lineEnd(text, start);
    next = newline + 1;
    const end = contentEnd(text, start, newline);
    if (end === start) continue;
    // Cells are percent-encoded, so a raw comma always separates two of them. Adobe's sample file
    // shortens rows whose last cells are empty; the contract here is stricter (every row has every
    // cell, empty or not), so a row that lost a column is caught instead of shifting its values.
    const raw = text.slice(start, end).split(',');
    if (raw.length !== width) {
      return refuse(400, `line ${line}: row has ${raw.length} cells, the header has ${width}`);
    }
    const id = decodeCell(raw[0] ?? '');
    if (id === undefined) return refuse(400, `line ${line} column 1 (${columns[0]}): ${badEncoding(raw[0] ?? '')}`);
    const problem = identityProblem(id);
    if (problem) return refuse(400, `line ${line} column 1: invalid ${columns[0]} ${quote(id)}: ${problem}`);
    ids.push(id);
    for (let c = 1; c < width; c++) {
      const value = decodeCell(raw[c] ?? '');
      if (value === undefined) return refuse(400, `line ${line} column ${c + 1} (${columns[c]}): ${badEncoding(raw[c] ?? '')}`);
      cells.push(value);
    }
  }
  return { ok: true, file: { kind, header: columns, names: columns.slice(1), ids, cells } };
}

function parseHeader(line: string): { ok: true; kind: IdentityKind; columns: string[] } | { ok: false; status: 400; message: string } {
  if (!line.startsWith(HEADER_PREFIX)) {
    return refuse(400, `line 1: the batch file must start with the header ${HEADER_PREFIX}thirdPartyId,<name>,… or ${HEADER_PREFIX}pcId,<name>,…`);
  }
  const raw = line.slice(HEADER_PREFIX.length).split(',');
  const columns: string[] = [];
  const seen = new Map<string, number>();
  for (const [i, cell] of raw.entries()) {
    const name = decodeCell(cell);
    if (name === undefined) return refuse(400, `line 1 column ${i + 1}: ${badEncoding(cell)}`);
    if (i > 0) {
      if (name === '') return refuse(400, `line 1 column ${i + 1}: empty parameter name`);
      const earlier = seen.get(name);
      if (earlier !== undefined) {
        return refuse(400, `line 1 column ${i + 1}: duplicate parameter name ${quote(name)} (also column ${earlier})`);
      }
      seen.set(name, i + 1);
    }
    columns.push(name);
  }
  const kind = IDENTITY_COLUMNS.get(columns[0] ?? '');
  if (kind === undefined) {
    return refuse(400, `line 1 column 1: the first column must be thirdPartyId or pcId, got ${quote(columns[0] ?? '')}`);
  }
  return { ok: true, kind, columns };
}

/**
 * A cell decoded as UTF-8 percent-encoding, or undefined when an escape is malformed. `+` is a
 * space (and `%2B` a plus), as x-www-form-urlencoded says and as the single-update endpoint reads
 * it; encodeURIComponent output never contains a raw `+`, so both readings agree for it.
 */
function decodeCell(raw: string): string | undefined {
  const plus = raw.indexOf('+') >= 0;
  if (!plus && raw.indexOf('%') < 0) return raw;
  try {
    return decodeURIComponent(plus ? raw.replaceAll('+', ' ') : raw);
  } catch {
    return undefined;
  }
}

/** Index of the `\n` ending the line that starts at `start`, or the text length for the last line. */
function lineEnd(text: string, start: number): number {
  const end = text.indexOf('\n', start);
  return end < 0 ? text.length : end;
}

/** `end` moved before a `\r` that ends a CRLF line. */
function contentEnd(text: string, start: number, end: number): number {
  return end > start && text.charCodeAt(end - 1) === CARRIAGE_RETURN ? end - 1 : end;
}

/** Non-blank lines from `start` on. */
function countRows(text: string, start: number): number {
  let rows = 0;
  for (let at = start, next = at; at < text.length; at = next) {
    const newline = lineEnd(text, at);
    next = newline + 1;
    if (contentEnd(text, at, newline) > at) rows++;
  }
  return rows;
}

/** The 1-based line holding the first byte sequence that is not UTF-8 (only asked once the file failed). */
function firstNonUtf8Line(bytes: Buffer): number {
  let line = 1;
  for (let start = 0; start < bytes.length; line++) {
    const newline = bytes.indexOf(NEWLINE, start);
    const end = newline < 0 ? bytes.length : newline;
    if (!isUtf8(bytes.subarray(start, end))) return line;
    start = end + 1;
  }
  return line;
}

function badEncoding(cell: string): string {
  return `malformed percent-encoding or not UTF-8 in ${quote(cell)}`;
}

/** A value quoted for a message, shortened so a huge cell cannot flood it. */
function quote(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

function refuse<S extends 400 | 413>(status: S, message: string): { ok: false; status: S; message: string } {
  return { ok: false, status, message };
}
