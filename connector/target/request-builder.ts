/**
 * Turns one profile update into the HTTP requests Target's Single Profile Update API needs.
 * Pure: no I/O, same input → same requests.
 */
import { UnmappableEventError } from '../errors.js';
import type { ProfileUpdate, TargetRequest } from '../profile.js';

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
  const maxGetUrlBytes = options.maxGetUrlBytes ?? 8192;
  const maxPostBodyBytes = options.maxPostBodyBytes ?? 61440;
  const path = options.pathTemplate.replaceAll('{client_code}', encodeURIComponent(options.clientCode));
  const endpoint = options.baseUrl.replace(/\/+$/, '') + (path.startsWith('/') ? path : `/${path}`);

  return {
    endpoint,
    build(update: ProfileUpdate): TargetRequest[] {
      const pairs = Object.entries(update.attributes).map(([name, value]) => encodePair(`profile.${name}`, value, name));
      if (pairs.length === 0) return [];
      const identityUrl = `${endpoint}?${encodePair(update.identity.kind, update.identity.value, update.identity.kind)}`;
      // Percent-encoded text and a URL endpoint are pure ASCII, so string length equals byte length.
      const getUrl = `${identityUrl}&${pairs.join('&')}`;
      if (getUrl.length <= maxGetUrlBytes) return [{ method: 'GET', url: getUrl }];
      if (identityUrl.length > maxGetUrlBytes) {
        throw new UnmappableEventError(
          `the ${update.identity.kind} identity makes the request URL ${identityUrl.length} bytes, over the ${maxGetUrlBytes}-byte limit`,
        );
      }
      return packBodies(pairs, Object.keys(update.attributes), maxPostBodyBytes).map((body) => ({
        method: 'POST',
        url: identityUrl,
        body,
      }));
    },
  };
}

/** `name=value`, both UTF-8 percent-encoded; `label` names the attribute in errors without its value. */
function encodePair(name: string, value: string, label: string): string {
  try {
    return `${encodeURIComponent(name)}=${encodeURIComponent(value)}`;
  } catch (cause) {
    // encodeURIComponent throws only for lone UTF-16 surrogates, which no UTF-8 request can carry.
    throw new UnmappableEventError(`"${label}" is not well-formed Unicode text`, { cause });
  }
}

/** Greedily fills bodies in attribute order, starting a new body when the next pair would overflow. */
function packBodies(pairs: string[], names: string[], maxBytes: number): string[] {
  const bodies: string[] = [];
  let current = '';
  pairs.forEach((pair, i) => {
    if (pair.length > maxBytes) {
      // Splitting a value across requests would store only its last part, so it cannot be sent.
      throw new UnmappableEventError(
        `attribute "${names[i]}" encodes to ${pair.length} bytes, over the ${maxBytes}-byte POST body limit`,
      );
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
