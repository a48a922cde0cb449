/** Reads and validates one Single Profile Update request the way Target does. Pure. */
import type { IdentityKind, ProfileIdentity } from '../../core/profile.js';
import { MAX_GET_URL_BYTES, MAX_POST_BODY_BYTES, MAX_THIRD_PARTY_ID_LENGTH } from '../../core/target-api/limits.js';

const IDENTITY_KINDS: readonly IdentityKind[] = ['mbox3rdPartyId', 'mboxPC'];
const FORM_TYPE = 'application/x-www-form-urlencoded';

export interface RawUpdateRequest {
  method: 'GET' | 'POST';
  /** Byte length of the full URL, scheme and host included. */
  urlBytes: number;
  /** Query string without the leading `?`. */
  query: string;
  contentType?: string | undefined;
  /** Form body of a POST. */
  body?: string | undefined;
  /** The POST body was over MAX_POST_BODY_BYTES (and was not kept). */
  bodyTooLarge?: boolean;
}

export type ParsedUpdate =
  { ok: true; identity: ProfileIdentity; attributes: Record<string, string> } | { ok: false; status: 400 | 413 | 414 | 415; message: string };

/**
 * Checks limits and identity, then collects `profile.<name>` parameters from query and body
 * (body wins on repeats). Empty names and values are dropped: Target cannot clear attributes.
 */
export function parseUpdateRequest(raw: RawUpdateRequest): ParsedUpdate {
  if (raw.urlBytes > MAX_GET_URL_BYTES) return reject(414, `URL is ${raw.urlBytes} bytes, over ${MAX_GET_URL_BYTES}`);
  if (raw.bodyTooLarge) return reject(413, `body is over ${MAX_POST_BODY_BYTES} bytes`);
  if (raw.method === 'POST' && raw.body && !isFormEncoded(raw.contentType)) {
    return reject(415, `POST body must be ${FORM_TYPE}`);
  }
  // URLSearchParams decodes UTF-8 percent escapes and, as x-www-form-urlencoded says, `+` as space.
  const params = [...new URLSearchParams(raw.query), ...new URLSearchParams(raw.body ?? '')];

  const identities = params.filter(([name]) => (IDENTITY_KINDS as readonly string[]).includes(name));
  const [first] = identities;
  if (!first) return reject(400, 'missing mbox3rdPartyId or mboxPC');
  if (identities.length > 1) return reject(400, 'exactly one mbox3rdPartyId or mboxPC is allowed');
  const [kind, value] = first as [IdentityKind, string];
  const problem = identityProblem(value);
  if (problem) return reject(400, `invalid ${kind}: ${problem}`);

  const attributes = new Map<string, string>();
  for (const [name, v] of params) {
    if (name.startsWith('profile.') && name.length > 'profile.'.length && v !== '') {
      attributes.set(name.slice('profile.'.length), v);
    }
  }
  return { ok: true, identity: { kind, value }, attributes: Object.fromEntries(attributes) };
}

/** Why Target would refuse this identity value, or undefined when it is fine. */
export function identityProblem(value: string): string | undefined {
  if (value === '') return 'empty';
  if (value.length > MAX_THIRD_PARTY_ID_LENGTH) return `longer than ${MAX_THIRD_PARTY_ID_LENGTH} characters`;
  if (value.includes('+') || value.includes('/')) return 'contains + or /';
  return undefined;
}

/** Whether a Content-Type header names application/x-www-form-urlencoded (parameters ignored). */
export function isFormEncoded(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() === FORM_TYPE;
}

function reject(status: 400 | 413 | 414 | 415, message: string): ParsedUpdate {
  return { ok: false, status, message };
}
