/**
 * The one retry policy of the connector: exponential backoff with full jitter, a peer's
 * Retry-After as a floor, and a bound on attempts. Whether an error may be retried at all comes
 * from the error's own `retryable` flag, never from status codes or message text.
 */
import { sleep, type Clock } from './clock.js';
import { ConnectorError } from './errors.js';

export interface RetryPolicyOptions {
  /** Ceiling of the first retry's delay; each further retry doubles it. */
  initialMs: number;
  /** Longest delay, whatever the attempt (a Retry-After may still ask for longer). */
  maxMs: number;
  /** Attempts in all, the first included; unbounded when absent. */
  maxAttempts?: number;
  /** Source of jitter in [0, 1): the process's (connector/system/random.ts), or a seeded one in tests. */
  random: () => number;
}

/** Whether `error` says it may succeed when tried again. */
export function isRetryable(error: unknown): boolean {
  return error instanceof ConnectorError && error.retryable;
}

/** The delay the peer asked for, when the error carries one. */
export function retryAfterOf(error: unknown): number | undefined {
  return error instanceof ConnectorError ? error.retryAfterMs : undefined;
}

export class RetryPolicy {
  constructor(readonly options: RetryPolicyOptions) {}

  /** Delay before retry number `attempt` (1 = the first retry), never below `floorMs` (a Retry-After). */
  delay(attempt: number, floorMs?: number): number {
    const { initialMs, maxMs } = this.options;
    const ceiling = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
    const jittered = Math.floor(this.options.random() * ceiling);
    return floorMs === undefined ? jittered : Math.max(floorMs, jittered);
  }

  /** Whether `attempts` attempts used up the bound. */
  exhausted(attempts: number): boolean {
    const { maxAttempts } = this.options;
    return maxAttempts !== undefined && attempts >= maxAttempts;
  }

  /** Whether a failure after `attempts` attempts may be tried again. */
  canRetry(error: unknown, attempts: number): boolean {
    return isRetryable(error) && !this.exhausted(attempts);
  }
}

/** What a retry loop reports between attempts. */
export interface RetryHooks {
  /** Called before waiting `delayMs` for attempt `attempt + 1`. */
  onRetry?(error: unknown, attempt: number, delayMs: number): void;
  /** Aborting ends the wait at once and rejects with the last error. */
  signal?: AbortSignal;
}

/** Runs `work` until it succeeds or fails in a way the policy does not retry; rejects with that failure. */
export async function retrying<T>(work: (attempt: number) => Promise<T>, policy: RetryPolicy, clock: Clock, hooks: RetryHooks = {}): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (error) {
      if (!policy.canRetry(error, attempt) || hooks.signal?.aborted) throw error;
      const delayMs = policy.delay(attempt, retryAfterOf(error));
      hooks.onRetry?.(error, attempt, delayMs);
      try {
        await sleep(clock, delayMs, hooks.signal);
      } catch {
        throw error;
      }
    }
  }
}
