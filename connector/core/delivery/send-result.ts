/**
 * What became of one request, as the endpoint's client judged the reply. Delivery decides from
 * this, never from status codes or message text; the client derives it from its typed errors.
 */
import { isRetryable, retryAfterOf } from '../retry.js';

export type SendResult =
  | { kind: 'acknowledged' }
  /** Worth trying again, not before `retryAfterMs` when the endpoint said so. */
  | { kind: 'retryable'; error: unknown; retryAfterMs?: number }
  /** Trying again would get the same answer. */
  | { kind: 'permanent'; error: unknown };

export const ACKNOWLEDGED: SendResult = { kind: 'acknowledged' };

/** The result a failure stands for, by the error's own `retryable` flag; anything unexpected is permanent. */
export function failureOf(error: unknown): SendResult {
  return isRetryable(error) ? { kind: 'retryable', error, retryAfterMs: retryAfterOf(error) } : { kind: 'permanent', error };
}
