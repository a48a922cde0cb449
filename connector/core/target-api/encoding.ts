/** Target's percent-encoding of names, values and identities, shared by the single and bulk request builders. Pure. */
import { UnmappableEventError } from '../errors.js';

/** The characters encodeURIComponent leaves as they are: A-Z a-z 0-9 - _ . ! ~ * ' ( ) */
const UNRESERVED = new Uint8Array(128);
for (const ch of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()") UNRESERVED[ch.charCodeAt(0)] = 1;

/**
 * UTF-8 percent-encoding, exactly as encodeURIComponent. Text that needs no escape (most values:
 * codes, numbers, dates, hashes) comes back as it is, without the call. `label` names the
 * attribute in errors without its value.
 */
export function encodeComponent(text: string, label: string): string {
  let plain = true;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 128 || UNRESERVED[code] === 0) {
      plain = false;
      break;
    }
  }
  if (plain) return text;
  try {
    return encodeURIComponent(text);
  } catch (cause) {
    // encodeURIComponent throws only for lone UTF-16 surrogates, which no UTF-8 request can carry.
    throw new UnmappableEventError(`"${label}" is not well-formed Unicode text`, { cause });
  }
}

/**
 * The length `encodeComponent` would return, without building the string: bulk keeps a batch
 * file's exact size while rows join and fold, and encodes each row once, when the file is built.
 */
export function encodedLength(text: string, label: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 128) length += UNRESERVED[code] === 1 ? 1 : 3;
    else if (code < 0x800) length += 6;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      length += 12;
      i++;
    } else if (code >= 0xd800 && code <= 0xdfff) throw new UnmappableEventError(`"${label}" is not well-formed Unicode text`);
    else length += 9;
  }
  return length;
}
