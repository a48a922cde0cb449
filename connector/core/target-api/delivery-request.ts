/**
 * Turns one profile update into the JSON calls Target's server-side Delivery API needs
 * (`POST /rest/v1/delivery?client=<code>&sessionId=<id>`), the realtime route's door.
 * Pure: no I/O, same input → same calls.
 *
 * The attributes go as `execute.mboxes[0].profileParameters` of an mbox no activity uses. Adobe's
 * SDK notes say an `execute` mbox counts an impression for the activities that qualify on it,
 * while a `prefetch` mbox does not; with a dedicated mbox no activity qualifies, so `execute`
 * costs no impression, and it is the part Adobe's examples show carrying `profileParameters`
 * (`notifications` report displays and clicks of delivered content: a measurement, not a write).
 */
import { UnmappableEventError } from '../errors.js';
import type { ProfileIdentity, ProfileUpdate } from '../profile.js';
import { MAX_DELIVERY_BODY_BYTES } from './limits.js';

export interface DeliveryRequestOptions {
  /** e.g. https://acme.tt.omtrdc.net (a trailing slash is ignored). */
  baseUrl: string;
  /** `target.realtime.path`, e.g. /rest/v1/delivery; every `{client_code}` is replaced. */
  path: string;
  clientCode: string;
  /** `target.realtime.mbox`: the mbox named in every call; one that no activity uses. */
  mbox: string;
  /** `target.realtime.channel`: `context.channel`, e.g. web. */
  channel: string;
  /** Largest JSON body in UTF-8 bytes; MAX_DELIVERY_BODY_BYTES unless given. */
  maxBodyBytes?: number;
}

/** One Delivery API call, fully built: always a POST of a JSON body. */
export interface DeliveryRequest {
  method: 'POST';
  /** The endpoint with `client` and `sessionId` in the query. */
  url: string;
  /** The JSON body. */
  body: string;
  /** The session the call belongs to: the profile's (see deliverySessionId). */
  sessionId: string;
}

export interface DeliveryRequestBuilder {
  /** The Delivery URL without query string. */
  readonly endpoint: string;
  /** The calls that together carry every attribute of `update`, in order; none when it has no attributes. */
  build(update: ProfileUpdate): DeliveryRequest[];
  /** The call for `identity` without any profile parameter: what `check` sends. */
  bare(identity: ProfileIdentity): DeliveryRequest;
}

export const JSON_CONTENT_TYPE = 'application/json';

/** Creates a builder bound to one Delivery endpoint, mbox, channel and body limit. */
export function createDeliveryRequestBuilder(options: DeliveryRequestOptions): DeliveryRequestBuilder {
  const maxBodyBytes = options.maxBodyBytes ?? MAX_DELIVERY_BODY_BYTES;
  const path = options.path.replaceAll('{client_code}', encodeURIComponent(options.clientCode));
  const endpoint = options.baseUrl.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`);
  const urlPrefix = `${endpoint}?client=${encodeURIComponent(options.clientCode)}&sessionId=`;
  const contextJson = JSON.stringify({ channel: options.channel });
  const mboxHead = `{"index":0,"name":${JSON.stringify(options.mbox)},"profileParameters":{`;

  /** The body around the parameters: `head` + parameters + TAIL. */
  const headOf = (identity: ProfileIdentity): string =>
    `{"id":${JSON.stringify(identityJson(identity))},"context":${contextJson},"execute":{"mboxes":[${mboxHead}`;

  const call = (identity: ProfileIdentity, sessionId: string, parameters: string): DeliveryRequest => ({
    method: 'POST',
    url: urlPrefix + encodeURIComponent(sessionId),
    body: headOf(identity) + parameters + TAIL,
    sessionId,
  });

  return {
    endpoint,
    build(update: ProfileUpdate): DeliveryRequest[] {
      const { identity, attributes } = update;
      const names = Object.keys(attributes);
      if (names.length === 0) return [];
      wellFormed(identity.value, identity.kind);
      const envelopeBytes = utf8Length(headOf(identity)) + TAIL.length;
      if (envelopeBytes > maxBodyBytes) {
        throw new UnmappableEventError(
          `the ${identity.kind} identity makes the Delivery call ${envelopeBytes} bytes, over the ${maxBodyBytes}-byte body limit`,
        );
      }
      const room = maxBodyBytes - envelopeBytes;
      const sessionId = deliverySessionId(identity);
      const calls: DeliveryRequest[] = [];
      let current = '';
      let currentBytes = 0;
      for (const name of names) {
        const value = attributes[name] as string;
        wellFormed(name, name);
        wellFormed(value, name);
        const member = `${JSON.stringify(name)}:${JSON.stringify(value)}`;
        const bytes = utf8Length(member);
        if (bytes > room) {
          // Splitting one value across calls would store only its last part, so it cannot be sent.
          throw new UnmappableEventError(
            `attribute "${name}" makes the Delivery call ${envelopeBytes + bytes} bytes, over the ${maxBodyBytes}-byte body limit`,
          );
        }
        if (current === '') {
          current = member;
          currentBytes = bytes;
        } else if (currentBytes + 1 + bytes <= room) {
          current += `,${member}`;
          currentBytes += 1 + bytes;
        } else {
          calls.push(call(identity, sessionId, current));
          current = member;
          currentBytes = bytes;
        }
      }
      calls.push(call(identity, sessionId, current));
      return calls;
    },
    bare(identity: ProfileIdentity): DeliveryRequest {
      return call(identity, deliverySessionId(identity), '');
    },
  };
}

const TAIL = '}}]}}';

/** The request's `id`: an mbox3rdPartyId goes as `thirdPartyId`, an mboxPC as `tntId`. */
function identityJson(identity: ProfileIdentity): { thirdPartyId: string } | { tntId: string } {
  return identity.kind === 'mbox3rdPartyId' ? { thirdPartyId: identity.value } : { tntId: identity.value };
}

/**
 * The profile's Delivery session: the same for every call of one profile, so Target processes
 * them in order on one session, and different between profiles, so no session nears the 100
 * concurrent calls Target allows. 64 bits of FNV-1a (two 32-bit lanes with different offset
 * bases, each finished by MurmurHash3's fmix32) over the UTF-8 of `kind:value`: a small,
 * well-known, non-cryptographic hash that is
 * stable across processes and versions, which node:crypto cannot be in the pure core. A collision
 * only makes two profiles share a session, which Target allows.
 */
export function deliverySessionId(identity: ProfileIdentity): string {
  let a = FNV_OFFSET;
  let b = FNV_OFFSET_ALT;
  forEachUtf8Byte(`${identity.kind}:${identity.value}`, (byte) => {
    a = Math.imul(a ^ byte, FNV_PRIME) >>> 0;
    b = Math.imul(b ^ byte, FNV_PRIME) >>> 0;
  });
  return `tps-${hex8(fmix32(a))}${hex8(fmix32(b))}`;
}

/** MurmurHash3's finaliser: FNV-1a mixes the last bytes into the high bits poorly, this spreads them. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const FNV_OFFSET = 0x811c9dc5;
// A second, arbitrary offset basis: the same bytes give a second, independent 32 bits.
const FNV_OFFSET_ALT = 0x050c5d1f;
const FNV_PRIME = 0x01000193;

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Bytes of `text` in UTF-8 (JSON text from JSON.stringify, which escapes lone surrogates). */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    // A surrogate pair is 2 UTF-16 units and 4 bytes: 1 extra byte per unit.
    bytes += code < 0x800 ? 1 : code >= 0xd800 && code <= 0xdfff ? 1 : 2;
  }
  return bytes;
}

const LONE_SURROGATE = /\p{Cs}/u;

/** Throws UnmappableEventError for a lone surrogate, which no UTF-8 request can carry (as the single API's encoding does). */
function wellFormed(text: string, label: string): void {
  if (LONE_SURROGATE.test(text)) throw new UnmappableEventError(`"${label}" is not well-formed Unicode text`);
}

/** Calls `each` with every UTF-8 byte of `text`, in order; a lone surrogate counts as U+FFFD. */
function forEachUtf8Byte(text: string, each: (byte: number) => void): void {
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        i++;
      } else code = 0xfffd;
    } else if (code >= 0xdc00 && code <= 0xdfff) code = 0xfffd;
    if (code < 0x80) each(code);
    else if (code < 0x800) {
      each(0xc0 | (code >> 6));
      each(0x80 | (code & 0x3f));
    } else if (code < 0x10000) {
      each(0xe0 | (code >> 12));
      each(0x80 | ((code >> 6) & 0x3f));
      each(0x80 | (code & 0x3f));
    } else {
      each(0xf0 | (code >> 18));
      each(0x80 | ((code >> 12) & 0x3f));
      each(0x80 | ((code >> 6) & 0x3f));
      each(0x80 | (code & 0x3f));
    }
  }
}
