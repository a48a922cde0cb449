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
