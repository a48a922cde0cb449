/**
 * Reads the XML replies of Target's Bulk Profile Update API v2: the batchUpdate answer and the
 * batchStatus report. Pure. A tiny scanner rather than an XML library: two flat shapes are all
 * there is to read, and it reads them leniently (whitespace, element order, extra elements,
 * attributes, namespace prefixes, entities, CDATA, declarations and comments) in one pass over a
 * 20 MB report.
 */
import { TargetError } from '../errors.js';
import { snippet } from './reply.js';

export type SubmitReply = { success: true; statusUrl: string; message: string | undefined } | { success: false; message: string };

export type RowStatus = 'success' | 'error' | 'pending';

export interface StatusReply {
  batchId: string | undefined;
  /** Each reported row's status, by thirdPartyId. */
  rows: Map<string, RowStatus>;
}

/** Reads a batchUpdate reply; a body that is not such a reply at all throws a TargetError (permanent) saying what came back (a snippet). */
export function parseSubmitReply(body: string): SubmitReply {
  const fields = new Map<string, string>();
  const found = scanResponse(body, (name, depth, text) => {
    if (depth === 1 && !fields.has(name)) fields.set(name, text);
  });
  const success = fields.get('success')?.toLowerCase();
  const message = fields.get('message');
  if (!found || (success !== 'true' && success !== 'false')) {
    throw new TargetError(`Target's reply is not a batchUpdate response: ${snippet(body)}`, false);
  }
  if (success === 'false') return { success: false, message: message || '(no message)' };
  const statusUrl = fields.get('batchStatus');
  if (!statusUrl) throw new TargetError(`Target accepted the batch but named no batchStatus URL: ${snippet(body)}`, false);
  return { success: true, statusUrl, message };
}

/** Target's message when `body` is a reply with `success` false, else undefined. */
export function refusalMessage(body: string): string | undefined {
  try {
    const reply = parseSubmitReply(body);
    return reply.success ? undefined : reply.message;
  } catch {
    return undefined;
  }
}

/** Reads a batchStatus reply; unknown status words count as 'pending' and are listed in `unknown` (log-worthy), a body with no <response> throws TargetError. */
export function parseStatusReply(body: string): StatusReply & { unknown: string[] } {
  const rows = new Map<string, RowStatus>();
  const unknown = new Set<string>();
  let batchId: string | undefined;
  let success: string | undefined;
  let message: string | undefined;
  let id: string | undefined;
  let status: string | undefined;
  const found = scanResponse(body, (name, depth, text) => {
    if (depth === 2) {
      if (name === 'id') id ??= text;
      else if (name === 'status') status ??= text;
    } else if (depth === 1) {
      if (name === 'profile' && id !== undefined) rows.set(id, rowStatus(status, unknown));
      else if (name === 'batchId') batchId ??= text;
      else if (name === 'success') success ??= text;
      else if (name === 'message') message ??= text;
      // An id or status inside any other child of the response belongs to no profile.
      id = undefined;
      status = undefined;
    }
  });
  if (!found) throw new TargetError(`Target's reply is not a batchStatus response: ${snippet(body)}`, false);
  if (success?.toLowerCase() === 'false') throw new TargetError(`Target refused the batchStatus request: ${message || '(no message)'}`, false);
  return { batchId: batchId || undefined, rows, unknown: [...unknown] };
}

const STATUSES: ReadonlyMap<string, RowStatus> = new Map([
  ['success', 'success'],
  ['error', 'error'],
  ['pending', 'pending'],
]);

function rowStatus(word: string | undefined, unknown: Set<string>): RowStatus {
  const known = STATUSES.get((word ?? '').toLowerCase());
  if (known) return known;
  // A word Target added later (say "processing") is no outcome yet: wait for one.
  unknown.add(word === undefined ? '(no status)' : word);
  return 'pending';
}

/**
 * Scans the first `<response>` element of `xml`, calling `element` as each element inside it
 * closes, with its local name (namespace prefix dropped), its depth (1 for the response's children)
 * and its text, entities decoded, CDATA kept as written, trimmed. Only elements without child
 * elements carry text. Returns whether a `<response>` was found. An element still open when the
 * text ends is not reported: a cut-off URL or id is worse than none. Jumps from `<` to `<` with indexOf and
 * reads names by character code: a 20 MB report is one pass without a regular expression per tag.
 */
function scanResponse(xml: string, element: (name: string, depth: number, text: string) => void): boolean {
  /** Open elements from the response down: name, text so far, and whether a child element appeared. */
  const names: string[] = [];
  const texts: string[] = [];
  const parents: boolean[] = [];
  let found = false;
  const close = (): void => {
    const depth = names.length - 1;
    const name = names.pop() as string;
    const text = texts.pop() as string;
    const parent = parents.pop() as boolean;
    if (depth > 0) element(name, depth, parent ? '' : text.trim());
  };
  /** Whether text here belongs to an element that keeps it: one inside the response, without child elements so far. */
  const keepsText = (): boolean => names.length > 0 && !parents[names.length - 1];

  let at = 0;
  while (at < xml.length) {
    const lt = xml.indexOf('<', at);
    const textEnd = lt < 0 ? xml.length : lt;
    if (textEnd > at && keepsText()) texts[names.length - 1] += decodeEntities(xml.slice(at, textEnd));
    if (lt < 0) break;
    const next = xml.charCodeAt(lt + 1);
    if (next === BANG || next === QUESTION) {
      at = skipMarkup(xml, lt, (text) => {
        if (keepsText()) texts[names.length - 1] += text;
      });
      continue;
    }
    const closing = next === SLASH;
    const nameStart = closing ? lt + 2 : lt + 1;
    let nameEnd = nameStart;
    let localStart = nameStart;
    for (let c = xml.charCodeAt(nameEnd); nameEnd < xml.length && !endsName(c); c = xml.charCodeAt(++nameEnd)) {
      if (c === COLON) localStart = nameEnd + 1;
    }
    const name = xml.slice(localStart, nameEnd);
    const end = tagEnd(xml, nameEnd);
    at = end + 1;
    if (closing) {
      // A stray end tag is skipped; one that closes an outer element closes what is still open inside it.
      const open = names.lastIndexOf(name);
      if (open >= 0) while (names.length > open) close();
      if (found && names.length === 0) return true;
      continue;
    }
    if (names.length === 0 && (found || name !== 'response')) continue;
    found = true;
    if (names.length > 0) parents[names.length - 1] = true;
    names.push(name);
    texts.push('');
    parents.push(false);
    if (xml.charCodeAt(end - 1) === SLASH) {
      close();
      if (names.length === 0) return true;
    }
  }
  return found;
}

const BANG = 0x21;
const QUESTION = 0x3f;
const SLASH = 0x2f;
const COLON = 0x3a;
const GREATER = 0x3e;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;

/** Whether a character ends an element name inside its tag: whitespace, `/` or `>`. */
function endsName(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === SLASH || c === GREATER;
}

/**
 * Skips the CDATA section, comment, declaration or processing instruction starting at `lt`,
 * handing a CDATA section's text to `cdata`; returns the position after it (the end of the text
 * when it is never closed).
 */
function skipMarkup(xml: string, lt: number, cdata: (text: string) => void): number {
  if (xml.startsWith('<![CDATA[', lt)) {
    const end = xml.indexOf(']]>', lt + 9);
    cdata(xml.slice(lt + 9, end < 0 ? xml.length : end));
    return end < 0 ? xml.length : end + 3;
  }
  const marker = xml.startsWith('<!--', lt) ? '-->' : xml.startsWith('<?', lt) ? '?>' : '>';
  const end = xml.indexOf(marker, lt + 2);
  return end < 0 ? xml.length : end + marker.length;
}

/** Index of the `>` ending the tag whose name ends at `from`, skipping quoted attribute values. */
function tagEnd(xml: string, from: number): number {
  for (let i = from; i < xml.length; i++) {
    const c = xml.charCodeAt(i);
    if (c === GREATER) return i;
    if (c === DOUBLE_QUOTE || c === SINGLE_QUOTE) {
      const quote = xml.indexOf(xml[i] as string, i + 1);
      if (quote < 0) return xml.length;
      i = quote;
    }
  }
  return xml.length;
}

const NAMED: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML's five named entities and numeric character references decoded; anything else left as written. */
function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#[xX][0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (whole, ref: string) => {
    if (!ref.startsWith('#')) return NAMED[ref] ?? whole;
    const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}
