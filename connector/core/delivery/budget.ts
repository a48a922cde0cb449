/**
 * A rolling-window budget the lanes take from before each request (or the bulk route before each
 * batch, by rows): a fixed local quota, this member's share of the account's, or the fleet's
 * shared budget in Redis. Taking is synchronous so it stays off the hot path's promise chain.
 */
export interface Budget {
  /** Which budget this is, in the operator's words (the warning when it runs out names it). */
  readonly name: string;
  /** Takes `n` units; false when they do not fit now. Call `finished(n)` once they were used. */
  tryTake(n?: number): boolean;
  /** Records that `n` taken units got their answer (or failed). */
  finished(n?: number): void;
  /** Milliseconds until `n` units may fit (0 when they do now); look again then. */
  msUntilAvailable(n?: number): number;
  /** Units left for this member now. */
  remaining(): number;
}
