import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AssignmentShare } from '../../../connector/core/delivery/assignment-share.js';
import { RollingQuota } from '../../../connector/core/delivery/rolling-quota.js';
import { FakeClock } from '../../support/fake-clock.js';

describe('AssignmentShare', () => {
  it('is the quota times the partitions owned over all partitions, nothing before an assignment', () => {
    const share = new AssignmentShare(1000, 10_000, new FakeClock());
    expect(share.limit()).toBe(0);
    share.assign(2, 6);
    expect(share.share).toBe(333);
    expect(share.limit()).toBe(333);
    share.assign(0, 6);
    expect(share.limit()).toBe(0);
  });

  it('applies a shrink at once and a growth only once a window has passed', async () => {
    const clock = new FakeClock();
    const share = new AssignmentShare(1200, 10_000, clock);
    share.assign(3, 6);
    expect(share.limit()).toBe(600);
    await clock.advance(1000);
    share.assign(2, 6);
    expect(share.limit()).toBe(400);
    await clock.advance(1000);
    share.assign(6, 6);
    expect(share.share).toBe(1200);
    // The 400 held 9.999 s ago still bounds this window.
    await clock.advance(9999);
    expect(share.limit()).toBe(400);
    await clock.advance(1);
    expect(share.limit()).toBe(1200);
  });

  it('keeps the fleet within the quota in every window while partitions move between running members', () => {
    const member = fc.integer({ min: 0, max: 2 });
    const step = fc.oneof(
      // A rebalance: each partition goes to one member.
      fc.record({ kind: fc.constant('rebalance' as const), owners: fc.array(member, { minLength: 6, maxLength: 6 }) }),
      // Time passes, then each member sends as much as its budget allows, up to its demand.
      fc.record({ kind: fc.constant('send' as const), gap: fc.integer({ min: 0, max: 40 }), demand: fc.array(fc.nat(30), { minLength: 3, maxLength: 3 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 80 }), fc.array(member, { minLength: 6, maxLength: 6 }), (steps, firstOwners) => {
        const quota = 60;
        const windowMs = 100;
        let now = 0;
        const clock = { now: () => now, schedule: () => () => {} };
        const shares = [0, 1, 2].map(() => new AssignmentShare(quota, windowMs, clock));
        const budgets = shares.map(
          (s) =>
            new RollingQuota(
              () => s.limit(),
              windowMs,
              () => now,
            ),
        );
        const assign = (owners: number[]) => shares.forEach((s, m) => s.assign(owners.filter((o) => o === m).length, owners.length));
        assign(firstOwners);
        const sends: number[] = [];
        for (const s of steps) {
          if (s.kind === 'rebalance') {
            assign(s.owners);
            continue;
          }
          now += s.gap;
          budgets.forEach((budget, m) => {
            for (let i = 0; i < (s.demand[m] as number) && budget.tryTake(); i++) {
              budget.finished();
              sends.push(now);
            }
          });
        }
        return sends.every((t) => sends.filter((u) => u > t - windowMs && u <= t).length <= quota);
      }),
    );
  });
});
