/**
 * A backfill's estimate of the time left. While Target processes a batch nothing settles, so an
 * estimate from settled events says nothing for minutes; the rate that bounds a bulk backfill is
 * the rows Target reports done, so the estimate is that rate applied to the rows still to do.
 */

/** What the estimate is computed from. */
export interface EtaInput {
  /** Milliseconds since Target accepted the backfill's first batch; undefined while none was. */
  sinceFirstAcceptMs: number | undefined;
  /** Rows Target reported success or error so far, over every batch. */
  rowsReported: number;
  /** Rows of accepted batches that Target has not reported yet. */
  rowsPending: number;
  /** Rows not yet submitted (an estimate: see rowsToSubmit). */
  rowsToSubmit: number;
  /** Events settled (delivered, filtered, dead-lettered), of `eventsTotal`, in `elapsedMs` since the start: the rate when nothing goes by bulk. */
  eventsSettled: number;
  eventsTotal: number;
  elapsedMs: number;
}

/** Seconds left, or why there is no number yet. */
export type Eta = { kind: 'seconds'; seconds: number } | { kind: 'waiting' };

/** The estimate: rows left at the reported rate once Target has reported a row; before, `waiting`. */
export function backfillEta(input: EtaInput): Eta {
  if (input.sinceFirstAcceptMs === undefined) {
    // No batch yet: either the first is still being gathered, or nothing goes by bulk (mboxPC mappings).
    if (input.eventsSettled === 0) return { kind: 'waiting' };
    return { kind: 'seconds', seconds: secondsLeft(input.eventsTotal - input.eventsSettled, input.eventsSettled, input.elapsedMs) };
  }
  const left = input.rowsPending + input.rowsToSubmit;
  if (left === 0) return { kind: 'seconds', seconds: 0 };
  if (input.rowsReported === 0) return { kind: 'waiting' };
  return { kind: 'seconds', seconds: secondsLeft(left, input.rowsReported, input.sinceFirstAcceptMs) };
}

/** Rows the events not yet read will make, at the rows per event of those read so far (a profile's events fold into one row). */
export function rowsToSubmit(eventsTotal: number, eventsRead: number, rowsSubmitted: number): number {
  if (eventsRead === 0 || eventsRead >= eventsTotal) return 0;
  return Math.round(((eventsTotal - eventsRead) * rowsSubmitted) / eventsRead);
}

/** `left` units at `done` units per `ms`, in whole seconds rounded up. */
function secondsLeft(left: number, done: number, ms: number): number {
  return Math.max(0, Math.ceil((left * ms) / done / 1000));
}
