/** A `Source` without a broker: the test hands events and assignment changes in, and reads what the pipeline asked of it. */
import type { AckCommit } from '../../../connector/core/acks/ack-tracker.js';
import type { InboundEvent, Intake, Source, SourcePartition } from '../../../connector/core/pipeline/source.js';

export class FakeSource<M> implements Source<M> {
  readonly committed: AckCommit[][] = [];
  /** What the pipeline asked, in order: 'pause' and 'resume'. */
  readonly asked: Array<'pause' | 'resume'> = [];
  paused = false;
  /** Reads a record again by position; set by tests of events that let go of their records. */
  reread?: Source<M>['reread'];
  /** Commits wait for `release` while true (a slow broker). */
  holdCommits = false;
  private readonly heldCommits: Array<() => void> = [];
  private intake: Intake<M> | undefined;

  constructor(
    private readonly initial: SourcePartition[],
    readonly holdMs?: number,
  ) {}

  async open(intake: Intake<M>): Promise<void> {
    this.intake = intake;
    intake.assigned(this.initial);
  }

  async commit(commits: AckCommit[]): Promise<void> {
    if (this.holdCommits) await new Promise<void>((resolve) => this.heldCommits.push(resolve));
    this.committed.push(commits);
  }

  pause(): void {
    this.paused = true;
    this.asked.push('pause');
  }

  resume(): void {
    this.paused = false;
    this.asked.push('resume');
  }

  /** Lets the held commits through. */
  release(): void {
    for (const resolve of this.heldCommits.splice(0)) resolve();
  }

  /** The pipeline's intake, as the source sees it. */
  get to(): Intake<M> {
    if (!this.intake) throw new Error('start the pipeline first');
    return this.intake;
  }

  accept(event: InboundEvent<M>): void | Promise<void> {
    return this.to.accept(event);
  }

  /** The last offset committed for `stream` partition `partition`, if any. */
  lastCommit(stream: string, partition = 0): string | undefined {
    return this.committed
      .flat()
      .filter((c) => c.stream === stream && c.partition === partition)
      .at(-1)?.offset;
  }
}
