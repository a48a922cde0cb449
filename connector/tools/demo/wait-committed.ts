/** Waits until the connector's group has committed every partition to its end: the demo's "done". */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin } from 'kafkajs';
import { groupLag } from '../../adapters/kafka/group-lag.js';
import { DemoError } from './errors.js';
import { isRetriableKafkaError } from '../../adapters/kafka/retriable.js';

/** How to wait. */
export interface WaitOptions {
  /** Fails when the uncommitted count has not dropped for this long (a stuck run, not a slow one). */
  stallMs: number;
  everyMs?: number;
  /** Aborting rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Resolves once the committed offset of every partition of `topics` equals its end offset. A
 * commit is the connector's own statement that everything before it was delivered, filtered or
 * dead-lettered, so this is stronger than counting settled events.
 */
export async function waitUntilCommitted(admin: Admin, groupId: string, topics: string[], options: WaitOptions): Promise<void> {
  let fewest: number | undefined;
  let progressAt = Date.now();
  for (;;) {
    options.signal?.throwIfAborted();
    const lags = await groupLag(admin, groupId, topics).catch((err: unknown) => {
      // A coordinator moving or loading is a pause, not a failure; a long one ends as a stall.
      if (isRetriableKafkaError(err)) return undefined;
      throw err;
    });
    if (lags) {
      const remaining = lags.reduce((sum, p) => sum + p.lag, 0);
      if (remaining === 0) return;
      if (fewest === undefined || remaining < fewest) {
        fewest = remaining;
        progressAt = Date.now();
      }
    }
    if (Date.now() - progressAt > options.stallMs) {
      const left = fewest === undefined ? 'no committed offsets could be read' : `${fewest} events are still uncommitted`;
      throw new DemoError(`the connector made no progress for ${options.stallMs / 1000} s; ${left}`);
    }
    // An abort ends the sleep early; the check at the top of the loop then rejects with its reason.
    await sleep(options.everyMs ?? 250, undefined, { signal: options.signal }).catch(() => undefined);
  }
}
