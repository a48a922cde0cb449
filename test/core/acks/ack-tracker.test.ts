import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PartitionOffsets } from '../../../connector/core/acks/partition-offsets.js';
import { AckTracker } from '../../../connector/core/acks/ack-tracker.js';

describe('PartitionOffsets', () => {
  it('commits only the contiguous acknowledged prefix', () => {
    const p = new PartitionOffsets();
    for (const o of [0, 1, 2, 3]) p.track(o);
    p.ack(2);
    expect(p.committable()).toBeUndefined();
    p.ack(0);
    expect(p.committable()).toBe(1);
    p.ack(1);
    expect(p.committable()).toBe(3);
    expect(p.outstanding()).toBe(1);
  });

  it('steps over offset gaps (compaction, transaction markers)', () => {
    const p = new PartitionOffsets();
    for (const o of [5, 9, 10]) p.track(o);
    p.ack(9);
    p.ack(5);
    expect(p.committable()).toBe(10);
  });

  it('ignores offsets fetched again (at or below the last tracked)', () => {
    const p = new PartitionOffsets();
    expect(p.track(3)).toBe(true);
    expect(p.track(3)).toBe(false);
    expect(p.track(2)).toBe(false);
    p.ack(3);
    expect(p.committable()).toBe(4);
    expect(p.outstanding()).toBe(0);
  });

  it('never passes an unacknowledged offset, for any acknowledgement order', () => {
    const scenario = fc
      .uniqueArray(fc.nat(10_000), { minLength: 1, maxLength: 200 })
      .map((raw) => [...raw].sort((a, b) => a - b))
      .chain((offsets) => fc.tuple(fc.constant(offsets), fc.shuffledSubarray(offsets)));
    fc.assert(
      fc.property(scenario, ([offsets, ackOrder]) => {
        const p = new PartitionOffsets();
        offsets.forEach((o) => p.track(o));
        ackOrder.forEach((o) => p.ack(o));
        const acked = new Set(ackOrder);
        const firstMissing = offsets.find((o) => !acked.has(o));
        const next = p.committable();
        if (next === undefined) return firstMissing === offsets[0];
        const prefixAcked = offsets.filter((o) => o < next).every((o) => acked.has(o));
        const lastAckedBeforeGap = [...offsets].reverse().find((o) => firstMissing === undefined || o < firstMissing);
        return prefixAcked && next === (lastAckedBeforeGap as number) + 1;
      }),
    );
  });
});

describe('AckTracker', () => {
  it('reports commits for owned partitions and only when they advance', () => {
    const t = new AckTracker();
    t.assign([
      { stream: 'a', partition: 0 },
      { stream: 'a', partition: 1 },
    ]);
    const x = t.track('a', 0, 0)!;
    const y = t.track('a', 1, 7)!;
    t.ack(x);
    expect(t.pendingCommits()).toEqual([{ stream: 'a', partition: 0, offset: '1' }]);
    t.markCommitted(t.pendingCommits());
    expect(t.pendingCommits()).toEqual([]);
    t.ack(y);
    expect(t.pendingCommits()).toEqual([{ stream: 'a', partition: 1, offset: '8' }]);
  });

  it('ignores acknowledgements from an earlier assignment and never commits revoked partitions', () => {
    const t = new AckTracker();
    t.assign([
      { stream: 'a', partition: 0 },
      { stream: 'a', partition: 1 },
    ]);
    const old0 = t.track('a', 0, 0)!;
    const old1 = t.track('a', 1, 0)!;
    // rebalance: partition 1 goes to another member, partition 0 is re-assigned to us
    t.revokeAll();
    expect(t.track('a', 0, 1)).toBeUndefined();
    t.assign([{ stream: 'a', partition: 0 }]);
    t.ack(old0);
    t.ack(old1);
    expect(t.pendingCommits()).toEqual([]);
    expect(t.owns('a', 1)).toBe(false);
    // The leases of the first assignment ended: queued work of theirs is no longer sent.
    expect(old0.lease.owned).toBe(false);
    expect(old1.lease.owned).toBe(false);
    expect(t.assignmentVersion).toBe(3);
    const fresh = t.track('a', 0, 0)!;
    t.ack(fresh);
    expect(t.pendingCommits()).toEqual([{ stream: 'a', partition: 0, offset: '1' }]);
  });

  it('holds settled events as uncommitted until Kafka accepts the commit', () => {
    const t = new AckTracker();
    t.assign([{ stream: 'a', partition: 0 }]);
    const tokens = [0, 1, 2].map((o) => t.track('a', 0, o)!);
    t.ack(tokens[0]!);
    t.ack(tokens[1]!);
    expect(t.pendingCommits()).toEqual([{ stream: 'a', partition: 0, offset: '2' }]);
    expect(t.uncommitted()).toBe(3);
    const commits = t.pendingCommits();
    t.ack(tokens[2]!);
    t.markCommitted(commits);
    expect(t.uncommitted()).toBe(1);
    t.markCommitted(t.pendingCommits());
    expect(t.uncommitted()).toBe(0);
  });

  it('counts uncommitted events across partitions, and forgets them with the partitions', () => {
    const t = new AckTracker();
    t.assign([
      { stream: 'a', partition: 0 },
      { stream: 'b', partition: 0 },
    ]);
    t.track('a', 0, 0);
    const b = t.track('b', 0, 0)!;
    t.track('b', 0, 1);
    t.ack(b);
    expect(t.track('b', 0, 1)).toBeUndefined();
    expect(t.uncommitted()).toBe(3);
    t.markCommitted(t.pendingCommits());
    expect(t.uncommitted()).toBe(2);
    t.assign([{ stream: 'a', partition: 0 }]);
    expect(t.uncommitted()).toBe(0);
    t.track('a', 0, 0);
    expect(t.uncommitted()).toBe(1);
    t.revokeAll();
    expect(t.uncommitted()).toBe(0);
  });
});
