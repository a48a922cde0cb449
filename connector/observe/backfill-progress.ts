/**
 * A backfill's progress: events committed of the backlog, and what it waits for at Target —
 * batches accepted and still processing, their rows not yet reported, the next status poll —
 * with the time left estimated from the rows Target reports (backfill-eta.ts).
 */
import type { BulkBatchReport, BulkObserver } from '../core/delivery/bulk-route.js';
import { backfillEta, rowsToSubmit } from './backfill-eta.js';
import type { ProgressSource } from './progress.js';

/** What Target holds now, as the bulk route last reported it. */
export interface TargetWaitState {
  /** Milliseconds since the first batch was accepted; undefined while none was. */
  sinceFirstAcceptMs: number | undefined;
  batchesPending: number;
  rowsPending: number;
  /** Rows reported success or error, over every batch. */
  rowsReported: number;
  /** Until the soonest status poll of a pending batch (0 when due); undefined with nothing pending. */
  nextPollInMs: number | undefined;
}

interface PendingBatch {
  pending: number;
  reported: number;
  nextPollAt: number;
}

/** Follows the bulk route's batch reports (a BulkObserver) to tell what the backfill waits for. */
export class TargetWait implements Pick<BulkObserver, 'batchReported' | 'pollDeferred'> {
  private firstAcceptAt: number | undefined;
  private rowsReported = 0;
  private readonly batches = new Map<string, PendingBatch>();

  constructor(private readonly now: () => number) {}

  /** A batch accepted or reported on; forgotten once every row settled. */
  batchReported(batch: BulkBatchReport, nextPollInMs: number | undefined): void {
    const at = this.now();
    this.firstAcceptAt ??= at;
    const reported = batch.succeeded + batch.failed;
    this.rowsReported += reported - (this.batches.get(batch.name)?.reported ?? 0);
    if (nextPollInMs === undefined) this.batches.delete(batch.name);
    else this.batches.set(batch.name, { pending: batch.pending, reported, nextPollAt: at + nextPollInMs });
  }

  /** A failed status poll moved the batch's next poll. */
  pollDeferred(name: string, nextPollInMs: number): void {
    const batch = this.batches.get(name);
    if (batch) batch.nextPollAt = this.now() + nextPollInMs;
  }

  /** The state now. */
  state(): TargetWaitState {
    const at = this.now();
    let rowsPending = 0;
    let nextPollAt = Infinity;
    for (const b of this.batches.values()) {
      rowsPending += b.pending;
      nextPollAt = Math.min(nextPollAt, b.nextPollAt);
    }
    return {
      sinceFirstAcceptMs: this.firstAcceptAt === undefined ? undefined : at - this.firstAcceptAt,
      batchesPending: this.batches.size,
      rowsPending,
      rowsReported: this.rowsReported,
      nextPollInMs: this.batches.size === 0 ? undefined : Math.max(0, nextPollAt - at),
    };
  }
}

/** The backfill's own counts at one moment. */
export interface BackfillCountsNow {
  eventsTotal: number;
  eventsRead: number;
  /** Delivered, filtered or dead-lettered: what may be committed. */
  eventsSettled: number;
  elapsedMs: number;
  rowsSubmitted: number;
  batchesAccepted: number;
  batchesComplete: number;
}

/** Shown instead of a time while no row has been reported. */
export const WAITING_FOR_REPORT = "waiting for Target's first status report";

/** The progress line and log fields of a backfill. */
export function backfillProgress(counts: () => BackfillCountsNow, target: TargetWait): ProgressSource {
  const figures = () => {
    const c = counts();
    const t = target.state();
    const eta = backfillEta({
      sinceFirstAcceptMs: t.sinceFirstAcceptMs,
      rowsReported: t.rowsReported,
      rowsPending: t.rowsPending,
      rowsToSubmit: rowsToSubmit(c.eventsTotal, c.eventsRead, c.rowsSubmitted),
      eventsSettled: c.eventsSettled,
      eventsTotal: c.eventsTotal,
      elapsedMs: c.elapsedMs,
    });
    return {
      settled: c.eventsSettled,
      total: c.eventsTotal,
      rows: c.rowsSubmitted,
      batches: c.batchesAccepted,
      complete: c.batchesComplete,
      batchesPending: t.batchesPending,
      rowsPending: t.rowsPending,
      rowsReported: t.rowsReported,
      nextPollInSeconds: t.nextPollInMs === undefined ? undefined : Math.ceil(t.nextPollInMs / 1000),
      etaSeconds: eta.kind === 'seconds' ? eta.seconds : undefined,
      eta: eta.kind === 'seconds' ? `${eta.seconds} s` : WAITING_FOR_REPORT,
    };
  };
  return {
    line() {
      const f = figures();
      const pct = f.total > 0 ? Math.floor((100 * f.settled) / f.total) : 100;
      const bar = '#'.repeat(Math.floor(pct / 5)).padEnd(20, '.');
      const waiting = f.nextPollInSeconds === undefined ? '' : ` · ${f.rowsPending} rows pending at Target, next poll in ${f.nextPollInSeconds} s`;
      return (
        `[${bar}] ${pct}% · ${f.settled}/${f.total} events · ${f.rows} rows batched · ` +
        `batches ${f.batches} accepted, ${f.complete} complete, ${f.batchesPending} pending at Target${waiting} · ` +
        (f.etaSeconds === undefined ? f.eta : `ETA ${f.eta}`)
      );
    },
    fields: () => figures(),
  };
}
