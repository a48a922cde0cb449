import { TargetError } from '../errors.js';
import { isRetryableStatus } from '../http-status.js';

/**
 * Judges a Target reply by the API's rules: success is 2xx with a body starting `true`;
 * 5xx, 408 and 429 are retryable (429/503 may say when, in Retry-After); other replies are permanent.
 */
export function classifyReply(status: number, retryAfter: string | undefined, body: string, now = Date.now()): TargetError | undefined {
  if (status >= 200 && status < 300) {
    if (body.startsWith('true')) return undefined;
    return new TargetError(`Target answered ${status} without "true": ${snippet(body)}`, false, { status });
  }
  const retryable = isRetryableStatus(status);
  return new TargetError(`Target answered ${status}: ${snippet(body)}`, retryable, {
    status,
    retryAfterMs: retryable ? parseRetryAfter(retryAfter, now) : undefined,
  });
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
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
