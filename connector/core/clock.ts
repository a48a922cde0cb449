/**
 * Time as the delivery core sees it. Injected, so that retries, backoff, the circuit breaker and
 * the quota can be tested on fake time instead of the wall clock; the real one is
 * connector/system/clock.ts, outside the core.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; the returned function cancels it. */
  schedule(ms: number, fn: () => void): () => void;
}

/** Resolves after `ms` on `clock`; rejects early with the signal's reason when it aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      cancel();
      reject(signal?.reason);
    };
    const cancel = clock.schedule(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
