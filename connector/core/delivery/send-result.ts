/**
 * What became of one request, as the endpoint's client judged the reply. Delivery decides from
 * this, never from status codes or message text; the client derives it from its typed errors.
 */
import { isRetryable, retryAfterOf } from '../retry.js';
import type { RowStatus } from '../target-api/batch-reply.js';

export type SendResult =
  | { kind: 'acknowledged' }
  /** Worth trying again, not before `retryAfterMs` when the endpoint said so. */
  | { kind: 'retryable'; error: unknown; retryAfterMs?: number }
  /** Trying again would get the same answer. */
  | { kind: 'permanent'; error: unknown };

/** What became of one batch file sent to Target's Bulk Profile Update API. */
export type BulkSubmitResult =
  /** Target took the file; its rows' outcomes are read at `statusUrl`. */
  | { kind: 'accepted'; statusUrl: string }
  /** The endpoint failed (5xx, 408, 429, no answer): send the same file again, not before `retryAfterMs` when said. */
  | { kind: 'retryable'; error: unknown; retryAfterMs?: number }
  /** Target refused the file itself; sending it again would get the same answer. */
  | { kind: 'permanent'; error: unknown };

/** What one poll of a batch's status URL told. */
export type BulkStatusResult =
  /** Each row's status by thirdPartyId; `unknown` lists status words Target used that the connector does not know (read as pending). */
  | { kind: 'report'; batchId?: string; rows: Map<string, RowStatus>; unknown: string[] }
  /** The status endpoint failed for now: ask again later, not before `retryAfterMs` when said. */
  | { kind: 'retryable'; error: unknown; retryAfterMs?: number }
  /** The status cannot be had (unknown batch, refused): asking again would get the same answer. */
  | { kind: 'permanent'; error: unknown };

/**
 * How one submitted update ended. `cancelled`: its submitter declared it no longer live (its
 * partition was handed to another member) before it was sent, so it was dropped unsent.
 */
export type UpdateResult = { status: 'delivered' } | { status: 'failed'; error: unknown; attempts: number } | { status: 'cancelled' };

export const ACKNOWLEDGED: SendResult = { kind: 'acknowledged' };

/** The result a failure stands for, by the error's own `retryable` flag; anything unexpected is permanent. */
export function failureOf(error: unknown): Exclude<SendResult, { kind: 'acknowledged' }> {
  return isRetryable(error) ? { kind: 'retryable', error, retryAfterMs: retryAfterOf(error) } : { kind: 'permanent', error };
}
