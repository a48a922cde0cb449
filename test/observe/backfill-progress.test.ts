/** The backfill's progress line and log fields while Target processes its batches. */
import { describe, expect, it } from 'vitest';
import { backfillProgress, TargetWait, type BackfillCountsNow } from '../../connector/observe/backfill-progress.js';

/** A clock the test moves by hand. */
function handClock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const batch1 = { name: 'batch 1', rows: 400 };

describe('backfillProgress', () => {
  it('while Target processes the first batch: the rows pending at Target, the next poll, and no number for the ETA', () => {
    const clock = handClock();
    const wait = new TargetWait(clock.now);
    const counts: BackfillCountsNow = {
      eventsTotal: 1000,
      eventsRead: 1000,
      eventsSettled: 0,
      elapsedMs: 3000,
      rowsSubmitted: 400,
      batchesAccepted: 1,
      batchesComplete: 0,
    };
    const progress = backfillProgress(() => counts, wait);
    wait.batchReported({ ...batch1, pending: 400, succeeded: 0, failed: 0 }, 2000);
    clock.advance(600);
    expect(progress.line()).toBe(
      "[....................] 0% · 0/1000 events · 400 rows batched · batches 1 accepted, 0 complete, 1 pending at Target · 400 rows pending at Target, next poll in 2 s · waiting for Target's first status report",
    );
    expect(progress.fields()).toMatchObject({
      batchesPending: 1,
      rowsPending: 400,
      nextPollInSeconds: 2,
      etaSeconds: undefined,
      eta: "waiting for Target's first status report",
    });
  });

  it('after a partial report: the rows left at the reported rate; once all are reported, 0 s and nothing pending', () => {
    const clock = handClock();
    const wait = new TargetWait(clock.now);
    const counts: BackfillCountsNow = {
      eventsTotal: 1000,
      eventsRead: 1000,
      eventsSettled: 0,
      elapsedMs: 0,
      rowsSubmitted: 400,
      batchesAccepted: 1,
      batchesComplete: 0,
    };
    const progress = backfillProgress(() => counts, wait);
    wait.batchReported({ ...batch1, pending: 400, succeeded: 0, failed: 0 }, 1000);
    clock.advance(10_000);
    // 100 rows done in 10 s, 300 left: 30 s. A later report of the same batch counts only its new rows.
    wait.batchReported({ ...batch1, pending: 300, succeeded: 90, failed: 10 }, 4000);
    counts.eventsSettled = 250;
    expect(progress.line()).toBe(
      '[#####...............] 25% · 250/1000 events · 400 rows batched · batches 1 accepted, 0 complete, 1 pending at Target · 300 rows pending at Target, next poll in 4 s · ETA 30 s',
    );
    clock.advance(1000);
    wait.pollDeferred('batch 1', 500);
    expect(progress.fields()).toMatchObject({ rowsReported: 100, nextPollInSeconds: 1 });
    clock.advance(500);
    wait.batchReported({ ...batch1, pending: 0, succeeded: 390, failed: 10 }, undefined);
    Object.assign(counts, { eventsSettled: 1000, batchesComplete: 1 });
    expect(progress.line()).toBe(
      '[####################] 100% · 1000/1000 events · 400 rows batched · batches 1 accepted, 1 complete, 0 pending at Target · ETA 0 s',
    );
    expect(progress.fields()).toMatchObject({ batchesPending: 0, rowsPending: 0, rowsReported: 400, nextPollInSeconds: undefined, etaSeconds: 0 });
  });

  it('counts rows not yet submitted in what is left', () => {
    const clock = handClock();
    const wait = new TargetWait(clock.now);
    // Half the events read made 200 rows: the other half should make 200 more.
    const counts: BackfillCountsNow = {
      eventsTotal: 1000,
      eventsRead: 500,
      eventsSettled: 0,
      elapsedMs: 0,
      rowsSubmitted: 200,
      batchesAccepted: 1,
      batchesComplete: 0,
    };
    const progress = backfillProgress(() => counts, wait);
    wait.batchReported({ name: 'batch 1', rows: 200, pending: 200, succeeded: 0, failed: 0 }, 1000);
    clock.advance(20_000);
    wait.batchReported({ name: 'batch 1', rows: 200, pending: 100, succeeded: 100, failed: 0 }, 2000);
    // 100 rows in 20 s: 5 rows/s; 100 pending + 200 to submit = 60 s.
    expect(progress.fields()).toMatchObject({ etaSeconds: 60 });
  });
});
