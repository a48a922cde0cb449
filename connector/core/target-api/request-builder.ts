/**
 * Turns one profile update into the HTTP requests Target's Single Profile Update API needs.
 * Pure: no I/O, same input → same requests.
 */
import { UnmappableEventError } from '../errors.js';
import type { ProfileUpdate, TargetRequest } from '../profile.js';
import { encodeComponent } from './encoding.js';
import { MAX_GET_URL_BYTES, MAX_POST_BODY_BYTES } from './limits.js';

export interface RequestBuilderOptions {
  /** e.g. https://acme.tt.omtrdc.net (a trailing slash is ignored). */
  baseUrl: string;
  /** e.g. /m2/{client_code}/profile/update; every `{client_code}` is replaced. */
  pathTemplate: string;
  clientCode: string;
  /** Longest full GET URL Target accepts (also applies to the POST URL). */
  maxGetUrlBytes?: number;
  /** Largest form body Target accepts in one POST. */
  maxPostBodyBytes?: number;
}

export interface RequestBuilder {
  /** The update URL without query string. */
  readonly endpoint: string;
  /** The requests that together carry every attribute of `update`; none when it has no attributes. */
  build(update: ProfileUpdate): TargetRequest[];
}

export const FORM_CONTENT_TYPE = 'application/x-www-form-urlencoded';

/** Creates a builder bound to one Target endpoint and its size limits. */
export function createRequestBuilder(options: RequestBuilderOptions): RequestBuilder {
  const maxGetUrlBytes = options.maxGetUrlBytes ?? MAX_GET_URL_BYTES;
  const maxPostBodyBytes = options.maxPostBodyBytes ?? MAX_POST_BODY_BYTES;
  const path = options.pathTemplate.replaceAll('{client_code}', encodeURIComponent(options.clientCode));
  const endpoint = options.baseUrl.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`);

  // Attribute names repeat from event to event: encode `profile.<name>=` once per name. Bounded,
  // because `expand` can turn arbitrary map keys into names.
  const encodedNames = new Map<string, string>();
  const namePart = (name: string): string => {
    let encoded = encodedNames.get(name);
    if (encoded === undefined) {
      encoded = `${encodeComponent(`profile.${name}`, name)}=`;
      if (encodedNames.size < NAME_CACHE_LIMIT) encodedNames.set(name, encoded);
    }
    return encoded;
  };

  return {
    endpoint,
    build(update: ProfileUpdate): TargetRequest[] {
      const { attributes } = update;
      // One string appended per attribute, from the cached `profile.<name>=` pieces. A for-in over
      // a plain object visits the same names in the same order as Object.keys (nothing enumerable
      // is inherited) without allocating the array, and reads each value through V8's enum cache.
      let query = '';
      for (const name in attributes) {
        const pair = namePart(name) + encodeComponent(attributes[name] as string, name);
        query = query === '' ? pair : `${query}&${pair}`;
      }
      if (query === '') return [];
      const { kind, value } = update.identity;
      const identityUrl = `${endpoint}?${encodeComponent(kind, kind)}=${encodeComponent(value, kind)}`;
      // Percent-encoded text and a URL endpoint are pure ASCII, so string length equals byte length.
      const getUrl = `${identityUrl}&${query}`;
      if (getUrl.length <= maxGetUrlBytes) return [{ method: 'GET', url: getUrl }];
      if (identityUrl.length > maxGetUrlBytes) {
        throw new UnmappableEventError(`the ${kind} identity makes the request URL ${identityUrl.length} bytes, over the ${maxGetUrlBytes}-byte limit`);
      }
      // Encoded pairs hold no raw `&`, so splitting the query gives them back, one per attribute.
      return packBodies(query.split('&'), Object.keys(attributes), maxPostBodyBytes).map((body) => ({
        method: 'POST',
        url: identityUrl,
        body,
      }));
    },
  };
}

const NAME_CACHE_LIMIT = 10_000;

/** Greedily fills bodies in attribute order, starting a new body when the next pair would overflow. */
function packBodies(pairs: string[], names: string[], maxBytes: number): string[] {
  const bodies: string[] = [];
  let current = '';
  pairs.forEach((pair, i) => {
    if (pair.length > maxBytes) {
      // Splitting a value across requests would store only its last part, so it cannot be sent.
      throw new UnmappableEventError(`attribute "${names[i]}" encodes to ${pair.length} bytes, over the ${maxBytes}-byte POST body limit`);
    }
    if (current === '') current = pair;
    else if (current.length + 1 + pair.length <= maxBytes) current += `&${pair}`;
    else {
      bodies.push(current);
      current = pair;
    }
  });
  bodies.push(current);
  return bodies;
}
