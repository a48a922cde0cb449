/**
 * A source of one ordered input owned for good, fed by its reader one event at a time: Airbyte
 * `write` (RECORD lines from stdin), `preview` (a sample file), a mapping test case. It never
 * needs pausing: its reader simply waits for room before the next event.
 */
import type { AckCommit } from '../acks/ack-tracker.js';
import type { InboundEvent, Intake, Source } from './source.js';

export class OrderedInput<M> implements Source<M> {
  private intake: Intake<M> | undefined;

  /** `stream` names the input; `onCommit` hears the acknowledged prefix (`write` echoes the STATEs it covers). */
  constructor(
    readonly stream: string,
    private readonly onCommit: (commits: AckCommit[]) => void = () => {},
  ) {}

  /** Owns the input's one partition from now on. */
  async open(intake: Intake<M>): Promise<void> {
    this.intake = intake;
    intake.assigned([{ stream: this.stream, partition: 0 }]);
  }

  /** Resolves once the next event may be pushed. */
  async room(): Promise<void> {
    const intake = this.opened();
    if (intake.full) await intake.room();
  }

  /** Hands one event in; a promise while its decoding waits (push the next one after it). */
  push(event: InboundEvent<M>): void | Promise<void> {
    return this.opened().accept(event);
  }

  async commit(commits: AckCommit[]): Promise<void> {
    this.onCommit(commits);
  }

  /** The reader waits for room before each event: there is no fetching to pause. */
  pause(): void {}

  resume(): void {}

  private opened(): Intake<M> {
    if (!this.intake) throw new Error('the input is not open: start the pipeline first');
    return this.intake;
  }
}
