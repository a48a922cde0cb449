/** The backfill's estimate of the time left, from the rows Target reported. */
import { describe, expect, it } from 'vitest';
import { backfillEta, rowsToSubmit, type EtaInput } from '../../connector/observe/backfill-eta.js';

const base: EtaInput = {
  sinceFirstAcceptMs: undefined,
  rowsReported: 0,
  rowsPending: 0,
  rowsToSubmit: 0,
  eventsSettled: 0,
  eventsTotal: 1000,
  elapsedMs: 5000,
};

describe('backfillEta', () => {
  it('waits for the first batch and then for its first status report, however long Target takes', () => {
    expect(backfillEta(base)).toEqual({ kind: 'waiting' });
    expect(backfillEta({ ...base, sinceFirstAcceptMs: 600_000, rowsPending: 500, rowsToSubmit: 200 })).toEqual({ kind: 'waiting' });
  });

  it('after a partial report: the rows left at the rate Target reported rows since the first acceptance', () => {
    // 300 rows in 60 s: 5 rows/s; 200 pending at Target + 100 not submitted = 60 s.
    expect(backfillEta({ ...base, sinceFirstAcceptMs: 60_000, rowsReported: 300, rowsPending: 200, rowsToSubmit: 100 })).toEqual({
      kind: 'seconds',
      seconds: 60,
    });
    // Rounded up: never "0 s" while rows are left.
    expect(backfillEta({ ...base, sinceFirstAcceptMs: 1000, rowsReported: 1000, rowsPending: 1 })).toEqual({ kind: 'seconds', seconds: 1 });
  });

  it('all done: nothing pending at Target and nothing left to submit is 0 s', () => {
    expect(backfillEta({ ...base, sinceFirstAcceptMs: 90_000, rowsReported: 800 })).toEqual({ kind: 'seconds', seconds: 0 });
  });

  it('without any bulk batch (every update by single requests), the settled events give the rate', () => {
    expect(backfillEta({ ...base, eventsSettled: 250, elapsedMs: 10_000 })).toEqual({ kind: 'seconds', seconds: 30 });
  });
});

describe('rowsToSubmit', () => {
  it('the unread events at the rows per event read so far; none once everything is read', () => {
    expect(rowsToSubmit(1000, 400, 100)).toBe(150);
    expect(rowsToSubmit(1000, 0, 0)).toBe(0);
    expect(rowsToSubmit(1000, 1000, 300)).toBe(0);
  });
});
