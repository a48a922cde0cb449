import { describe, expect, it } from 'vitest';
import type { LoggedUpdate } from '../../connector/tools/sandbox/update-log.js';
import { REPLICA_ATTRIBUTE } from './fleet.js';
import { arrivals, busiestWindow, countsPerWindow, windowPeaks } from './quota-windows.js';

const update = (at: number, replica: string): LoggedUpdate => ({
  index: 0,
  identity: { kind: 'mbox3rdPartyId', value: 'c' },
  attributes: { [REPLICA_ATTRIBUTE]: replica },
  method: 'GET',
  route: 'single',
  applied: true,
  receivedAt: new Date(at).toISOString(),
});

describe('quota windows', () => {
  it('finds the busiest half-open window', () => {
    expect(busiestWindow([], 10)).toEqual({ count: 0, start: Number.NaN });
    // [100, 10100) holds four; [0, 10000) only three: 10000 is past its end.
    expect(busiestWindow([0, 100, 9999, 10000, 10001], 10_000)).toEqual({ count: 4, start: 100 });
    expect(busiestWindow([5, 5, 5], 1)).toEqual({ count: 3, start: 5 });
  });

  it('looks only at windows starting within [from, to]', () => {
    const times = [0, 1, 2, 50, 60, 200];
    expect(busiestWindow(times, 100, 40)).toEqual({ count: 2, start: 40 });
    expect(busiestWindow(times, 100, 55, 100)).toEqual({ count: 1, start: 55 });
    expect(busiestWindow(times, 100, 150)).toEqual({ count: 1, start: 150 });
  });

  it('counts per replica and per consecutive window', () => {
    const updates = [update(1000, 'r2'), update(0, 'r1'), update(5000, 'r1'), update(12_000, 'r1')];
    expect(arrivals(updates)).toEqual([0, 1000, 5000, 12_000]);
    expect(arrivals(updates, 'r2')).toEqual([1000]);
    const peaks = windowPeaks(updates, 10_000);
    expect(peaks.fleet).toEqual({ count: 3, start: 0 });
    expect([...peaks.byReplica]).toEqual([
      ['r1', { count: 2, start: 0 }],
      ['r2', { count: 1, start: 1000 }],
    ]);
    expect(countsPerWindow(arrivals(updates), 10_000, 500)).toEqual([2, 1]);
  });
});
