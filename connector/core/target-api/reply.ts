import { TargetError, type Misconfiguration } from '../errors.js';
import { isRetryableStatus } from '../http-status.js';

/** The door a request went to: its URL, and the config key naming its path. */
export interface Door {
  url: string;
  /** `target.path` for single updates, `target.bulk_path` for batches. */
  pathKey: string;
}

/**
 * Judges a Target reply by the API's rules: success is 2xx with a body starting `true`;
 * 5xx, 408 and 429 are retryable (429/503 may say when, in Retry-After); other replies are permanent.
 * With the `door`, a 404, 401 or 403 also says which settings to check (see misconfigurationFor).
 * `now` (epoch ms, from the caller's clock) dates a Retry-After given as an HTTP date.
 */
export function classifyReply(status: number, retryAfter: string | undefined, body: string, now: number, door?: Door): TargetError | undefined {
  if (status >= 200 && status < 300) {
    if (body.startsWith('true')) return undefined;
    return new TargetError(`Target answered ${status} without "true": ${snippet(body)}`, false, { status });
  }
  const retryable = isRetryableStatus(status);
  return new TargetError(`Target answered ${status}: ${snippet(body)}`, retryable, {
    status,
    retryAfterMs: retryable ? parseRetryAfter(retryAfter, now) : undefined,
    misconfiguration: door && misconfigurationFor(status, door),
  });
}

/**
 * What a 404, 401 or 403 says about the settings: the path does not exist on this host (wrong
 * client code, path or base URL), or the account refuses unauthenticated updates (the connector
 * sends none). Any other status is not about the settings: undefined.
 */
export function misconfigurationFor(status: number, door: Door): Misconfiguration | undefined {
  const url = withoutSecrets(door.url);
  if (status === 404) {
    return { status, url, reason: 'the path does not exist', keys: ['target.client_code', door.pathKey, 'target.base_url'] };
  }
  if (status === 401 || status === 403) {
    return {
      status,
      url,
      reason:
        'Target refused the update as not authorized: the connector sends updates without credentials, so the account must not require authentication for profile updates',
      keys: ['target.base_url', 'target.client_code'],
    };
  }
  return undefined;
}

/** A URL without user info, query or fragment: what may be logged of a request. */
export function withoutSecrets(url: string): string {
  return url.replace(/[?#].*$/s, '').replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The start of a reply body on one line, for an error message. */
export function snippet(body: string, maxChars = 200): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > maxChars ? `${flat.slice(0, maxChars)}…` : flat || '(empty body)';
}
