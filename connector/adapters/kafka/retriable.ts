/**
 * kafkajs failures worth waiting out (a coordinator still loading or moving, a leader moving),
 * retried with the connector's one retry policy.
 */
import { systemClock } from '../../system/clock.js';
import { systemRandom } from '../../system/random.js';
import { ConnectorError, describeError } from '../../core/errors.js';
import { retrying, RetryPolicy } from '../../core/retry.js';

/** True for errors kafkajs itself marks retriable; its clients give up on some of them at once. */
export function isRetriableKafkaError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;
}

/** A kafkajs retriable failure in the connector's terms, so the retry policy can judge it. */
class KafkaStillBusy extends ConnectorError {
  constructor(cause: unknown) {
    super('KAFKA_UNAVAILABLE', describeError(cause).message, true, { cause });
  }
}

/**
 * Runs `work`, trying again while it fails with an error kafkajs marks retriable — the admin
 * client gives up at once on some (e.g. NOT_COORDINATOR on a broker that just started) — for up
 * to `giveUpAfterMs`; then, or on any other error, rejects with kafkajs' own error.
 */
export async function retryingKafka<T>(work: () => Promise<T>, giveUpAfterMs = 30_000): Promise<T> {
  const giveUpAt = systemClock.now() + giveUpAfterMs;
  // Unbounded attempts: the deadline ends it, by passing kafkajs' error on unwrapped (not retryable).
  const policy = new RetryPolicy({ initialMs: 100, maxMs: 2000, random: systemRandom });
  return retrying(
    async () => {
      try {
        return await work();
      } catch (err) {
        throw isRetriableKafkaError(err) && systemClock.now() < giveUpAt ? new KafkaStillBusy(err) : err;
      }
    },
    policy,
    systemClock,
  );
}
