/** Which kafkajs failures are worth waiting out (a coordinator still loading, a leader moving). */

/** True for errors kafkajs itself marks retriable; its clients give up on some of them at once. */
export function isRetriableKafkaError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;
}
