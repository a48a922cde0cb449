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

/** The reference: every tracked offset, a set of acknowledged ones, and two plain pointers. */
class ReferenceOffsets {
  readonly tracked: number[] = [];
  readonly acked = new Set<number>();
  /** Index of the first tracked offset not acknowledged. */
  prefix = 0;
  /** Index of the first tracked offset not committed. */
  committedUpTo = 0;

  ack(offset: number): void {
    this.acked.add(offset);
    while (this.prefix < this.tracked.length && this.acked.has(this.tracked[this.prefix] as number)) this.prefix++;
  }

  committable(): number | undefined {
    return this.prefix === 0 ? undefined : (this.tracked[this.prefix - 1] as number) + 1;
  }

  /** Events released by committing `next`. */
  commit(next: number): number {
    const from = this.committedUpTo;
    while (this.committedUpTo < this.prefix && (this.tracked[this.committedUpTo] as number) < next) this.committedUpTo++;
    return this.committedUpTo - from;
  }
}

describe('PartitionOffsets against a reference, steps interleaved', () => {
  it('gives the same committable offset, outstanding count and released events after every step, offsets beyond 2^31 included', () => {
    const step = fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('track' as const), gap: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 5 })) }) },
      // Mostly the oldest unacknowledged offset (in order), else any tracked one, committed ones included.
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('ack' as const), oldest: fc.boolean(), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('commit' as const) }) },
    );
    // Short runs, and long ones that pass the point where the committed head is dropped (1,024).
    const steps = fc.oneof(fc.array(step, { maxLength: 100 }), fc.array(step, { minLength: 6000, maxLength: 8000 }));
    fc.assert(
      fc.property(fc.constantFrom(0, 2 ** 31 - 3, 2 ** 40), steps, (base, steps) => {
        const p = new PartitionOffsets();
        const ref = new ReferenceOffsets();
        let next = base;
        for (const s of steps) {
          if (s.kind === 'track') {
            next += s.gap;
            expect(p.track(next)).toBe(true);
            ref.tracked.push(next);
          } else if (s.kind === 'ack') {
            if (ref.tracked.length === 0) continue;
            const index = s.oldest && ref.prefix < ref.tracked.length ? ref.prefix : s.pick % ref.tracked.length;
            const offset = ref.tracked[index] as number;
            p.ack(offset);
            ref.ack(offset);
          } else {
            const at = ref.committable();
            if (at === undefined) continue;
            const released = p.committed(at);
            if (released !== ref.commit(at)) expect(released).toBe('the reference count');
          }
          // Plain comparisons: expect() at each of thousands of steps would dominate the run.
          if (p.committable() !== ref.committable() || p.outstanding() !== ref.tracked.length - ref.prefix) {
            expect({ committable: p.committable(), outstanding: p.outstanding() }).toEqual({
              committable: ref.committable(),
              outstanding: ref.tracked.length - ref.prefix,
            });
          }
        }
      }),
      // Shrinking thousands of steps can take minutes: a failure is reported with what shrank by then.
      { numRuns: 40, interruptAfterTimeLimit: 15_000 },
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
