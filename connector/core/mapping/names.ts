/** Target's rules for profile attribute names and identities. */
import type { IdentityKind } from '../profile.js';
import { MAX_ATTRIBUTE_NAME_LENGTH, MAX_THIRD_PARTY_ID_LENGTH } from '../target-api/limits.js';
import { textLength } from './stringify.js';

const PROFILE_PREFIX = 'profile.';

/**
 * First name segments Target uses itself (profile-script namespaces, request parameters and
 * identity parameters). Compared case-insensitively: a near-collision is as confusing as a real one.
 */
const RESERVED = new Set(
  [
    'user',
    'profile',
    'mbox',
    'mobile',
    'geolocation',
    'session',
    'entity',
    'environment',
    'page',
    'landing',
    'param',
    'visitor',
    'mbox3rdPartyId',
    'mboxPC',
    'mboxSession',
    'mboxDefault',
    'thirdPartyId',
    'pcId',
    'tntId',
    'marketingCloudVisitorId',
    'orderId',
    'orderTotal',
    'productPurchasedId',
  ].map((name) => name.toLowerCase()),
);

/** Why `name` cannot be a profile attribute name, or undefined when it can. */
export function attributeNameProblem(name: string): string | undefined {
  if (name === '') return 'attribute name is empty';
  // Assigning "__proto__" on a plain object changes its prototype instead of adding a key.
  if (name === '__proto__') return 'attribute name "__proto__" is not allowed';
  const length = textLength(name);
  if (length > MAX_ATTRIBUTE_NAME_LENGTH) return `attribute name has ${length} characters; Target allows at most ${MAX_ATTRIBUTE_NAME_LENGTH}`;
  const dot = name.indexOf('.');
  const head = (dot === -1 ? name : name.slice(0, dot)).toLowerCase();
  if (RESERVED.has(head)) return `attribute name "${name}" collides with Target's own "${head}" names`;
  return undefined;
}

/** The name without the optional `profile.` prefix users may write (the request builder adds it). */
export function stripProfilePrefix(name: string): string {
  return name.startsWith(PROFILE_PREFIX) ? name.slice(PROFILE_PREFIX.length) : name;
}

/** Why `value` cannot identify a profile of this kind, or undefined when it can. */
export function identityProblem(kind: IdentityKind, value: string): string | undefined {
  if (value === '') return `${kind} is empty`;
  if (kind !== 'mbox3rdPartyId') return undefined;
  // Code points never outnumber UTF-16 units, so short text needs no counting.
  const length = value.length <= MAX_THIRD_PARTY_ID_LENGTH ? value.length : textLength(value);
  if (length > MAX_THIRD_PARTY_ID_LENGTH) {
    return `mbox3rdPartyId has ${length} characters; Target allows at most ${MAX_THIRD_PARTY_ID_LENGTH}`;
  }
  if (value.includes('+') || value.includes('/')) return 'mbox3rdPartyId must not contain "+" or "/"';
  return undefined;
}
