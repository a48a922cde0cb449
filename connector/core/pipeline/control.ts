/**
 * How control travels: named calls, never observer hooks. What can end the run (an outage past
 * its budget, a consumer crash kafkajs will not restart, a registry that stays unreachable) calls
 * a `FatalSignal`; the run's `RunControl` tells who must act (the pipeline stops fetching, the
 * app ends non-zero with offsets uncommitted).
 */

/** Called by what can end the run: the run cannot go on. */
export interface FatalSignal {
  fatal(error: Error): void;
}

/** The run's fatal signal: the first fatal error ends the run; later ones only repeat it. */
export class RunControl implements FatalSignal {
  private readonly listeners: Array<(error: Error) => void> = [];
  private ended: Error | undefined;

  /** Ends the run for `error`, telling every listener once. */
  fatal(error: Error): void {
    if (this.ended) return;
    this.ended = error;
    for (const listener of this.listeners) listener(error);
  }

  /** Calls `listener` when the run ends for a fatal error (at once if it already has). */
  onFatal(listener: (error: Error) => void): void {
    this.listeners.push(listener);
    if (this.ended) listener(this.ended);
  }

  /** The error that ended the run, if one did. */
  get error(): Error | undefined {
    return this.ended;
  }
}
