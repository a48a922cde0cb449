/** What an HTTP status means for a retry, the same for Target and the schema registry. */

/** 5xx, 408 (timeout) and 429 (too many requests): the peer asks for patience; anything else will not change. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}
