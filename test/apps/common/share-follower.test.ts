import { describe, expect, it } from 'vitest';
import { ShareFollower } from '../../../connector/apps/common/share-follower.js';
import { flushPromises } from '../../support/fake-clock.js';

/** A partition count that answers when the test says. */
function deferredCounts() {
  const pending: Array<{ resolve: (n: number) => void; reject: (e: Error) => void }> = [];
  const count = () => new Promise<number>((resolve, reject) => pending.push({ resolve, reject }));
  return { count, pending };
}

const quietLogger = { warn: () => {} };

describe('ShareFollower', () => {
  it('gives the budgets owned of all partitions, the latest assignment winning over a late count', async () => {
    const assigned: Array<[number, number]> = [];
    const counts = deferredCounts();
    const follower = new ShareFollower({ assign: (owned, total) => assigned.push([owned, total]) }, counts.count, quietLogger);
    follower.owns(4);
    follower.owns(2);
    counts.pending[1]!.resolve(12);
    counts.pending[0]!.resolve(12);
    await flushPromises();
    expect(assigned).toEqual([[2, 12]]);
  });

  it('keeps the last known count when the cluster cannot say', async () => {
    const assigned: Array<[number, number]> = [];
    const counts = deferredCounts();
    const follower = new ShareFollower({ assign: (owned, total) => assigned.push([owned, total]) }, counts.count, quietLogger);
    follower.owns(3);
    counts.pending[0]!.resolve(6);
    await flushPromises();
    follower.owns(6);
    counts.pending[1]!.reject(new Error('Connection error'));
    await flushPromises();
    expect(assigned).toEqual([
      [3, 6],
      [6, 6],
    ]);
  });

  it('once closed starts no count and waits for the one in flight, so the admin client can close for good', async () => {
    const counts = deferredCounts();
    const follower = new ShareFollower({ assign: () => {} }, counts.count, quietLogger);
    follower.owns(4);
    let closed = false;
    const closing = follower.close().then(() => (closed = true));
    follower.owns(2);
    await flushPromises();
    expect(counts.pending).toHaveLength(1);
    expect(closed).toBe(false);
    counts.pending[0]!.reject(new Error('write after end'));
    await closing;
    expect(closed).toBe(true);
  });
});
