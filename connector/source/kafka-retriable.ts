/** Which kafkajs failures are worth waiting out (a coordinator still loading or moving, a leader moving). */

/** True for errors kafkajs itself marks retriable; its clients give up on some of them at once. */
export function isRetriableKafkaError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;
}

/**
 * Runs `work`, trying again while it fails with an error kafkajs marks retriable — the admin
 * client gives up at once on some (e.g. NOT_COORDINATOR on a broker that just started).
 */
export async function retryingKafka<T>(work: () => Promise<T>, giveUpAfterMs = 30_000): Promise<T> {
  const giveUpAt = Date.now() + giveUpAfterMs;
  for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
    try {
      return await work();
    } catch (err) {
      if (!isRetriableKafkaError(err) || Date.now() + delay > giveUpAt) throw err;
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
