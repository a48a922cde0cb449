/** Judges a Delivery API reply by the realtime route's rules, into the TargetError family. Pure. */
import { TargetError, type Misconfiguration } from '../errors.js';
import { isRetryableStatus } from '../http-status.js';
import { DELIVERY_SESSION_BUSY_STATUS } from './limits.js';
import { parseRetryAfter, snippet, withoutSecrets, type Door } from './reply.js';

/** The Delivery door's config key naming its path. */
export const DELIVERY_PATH_KEY = 'target.realtime.path';

/**
 * Success is 2xx with a JSON object body. 5xx, 408, 420 (too many calls of one session) and 429
 * are retryable, honouring Retry-After; any other reply is permanent, its message the reply's
 * `message` when it has one. With the `door`, a 404, 401 or 403 also says which settings to check.
 */
export function classifyDeliveryReply(status: number, retryAfter: string | undefined, body: string, now: number, door?: Door): TargetError | undefined {
  if (status >= 200 && status < 300) {
    if (parseObject(body) !== undefined) return undefined;
    return new TargetError(`Target's Delivery API answered ${status} without a JSON body: ${snippet(body)}`, false, { status });
  }
  const retryable = isRetryableStatus(status) || status === DELIVERY_SESSION_BUSY_STATUS;
  return new TargetError(`Target's Delivery API answered ${status}: ${replyMessage(body)}`, retryable, {
    status,
    retryAfterMs: retryable ? parseRetryAfter(retryAfter, now) : undefined,
    misconfiguration: door && deliveryMisconfigurationFor(status, door),
  });
}

/**
 * What a 404, 401 or 403 of the Delivery door says about the settings: the path does not exist
 * on this host, or the account wants a token the connector did not send (or one it refuses).
 */
export function deliveryMisconfigurationFor(status: number, door: Door): Misconfiguration | undefined {
  const url = withoutSecrets(door.url);
  if (status === 404) {
    return { status, url, reason: 'the Delivery API path does not exist', keys: ['target.client_code', door.pathKey, 'target.base_url'] };
  }
  if (status === 401 || status === 403) {
    return {
      status,
      url,
      reason:
        'Target refused the Delivery API call as not authorized: the account requires a token (target.auth_token) and none, an expired or a wrong one was sent',
      keys: ['target.auth_token', 'target.client_code'],
    };
  }
  return undefined;
}

/** The reply's `message` (Target's JSON errors carry one), else the start of the body. */
export function replyMessage(body: string): string {
  const parsed = parseObject(body);
  const message = parsed?.['message'];
  return typeof message === 'string' && message.trim() !== '' ? snippet(message) : snippet(body);
}

function parseObject(body: string): Record<string, unknown> | undefined {
  const start = body.trimStart();
  if (!start.startsWith('{')) return undefined;
  try {
    const value = JSON.parse(start) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
