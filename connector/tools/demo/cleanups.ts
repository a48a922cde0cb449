/** Undo steps registered as a run acquires things, run in reverse so each is released before what it needs. */
import type { Logger } from 'pino';

/** A last-in, first-out list of named release steps. */
export class Cleanups {
  private readonly steps: Array<{ what: string; release: () => Promise<unknown> }> = [];

  constructor(private readonly logger: Logger) {}

  /** Registers a release step; `what` names it in the log if it fails. */
  push(what: string, release: () => Promise<unknown>): void {
    this.steps.push({ what, release });
  }

  /** Runs every step, newest first; a failing step is logged and the rest still run. */
  async run(): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      try {
        await step.release();
      } catch (err) {
        this.logger.error({ err }, `could not ${step.what}`);
      }
    }
  }
}
