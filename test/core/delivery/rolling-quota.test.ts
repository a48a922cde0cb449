import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RollingQuota } from '../../../connector/core/delivery/rolling-quota.js';

describe('RollingQuota', () => {
  it('refuses once the window is full and frees budget a window later', () => {
    let now = 0;
    const q = new RollingQuota(2, 1000, () => now);
    expect(q.tryTake()).toBe(true);
    expect(q.tryTake()).toBe(true);
    expect(q.tryTake()).toBe(false);
    q.finished();
    now += 300;
    q.finished();
    expect(q.remaining()).toBe(0);
    // the first request finished at 0, so it leaves the window a full window later
    const wait = q.msUntilAvailable();
    expect(now + wait).toBeGreaterThanOrEqual(1000);
    now += wait - 1;
    expect(q.tryTake()).toBe(false);
    now += 1;
    expect(q.tryTake()).toBe(true);
    expect(q.tryTake()).toBe(false);
  });

  it('never lets any window hold more than the limit, wherever between send and answer Target counts', () => {
    const step = fc.record({ gap: fc.nat(50), duration: fc.nat(30), arrival: fc.double({ min: 0, max: 1, noNaN: true }) });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 20 }), (steps, limit) => {
        const windowMs = 100;
        let now = 0;
        const q = new RollingQuota(limit, windowMs, () => now);
        const open: Array<{ end: number }> = [];
        const arrivals: number[] = [];
        for (const s of steps) {
          now += s.gap;
          // answers due by now come in first
          for (const r of open.filter((r) => r.end <= now)) {
            open.splice(open.indexOf(r), 1);
            q.finished();
          }
          if (q.tryTake()) {
            open.push({ end: now + s.duration });
            arrivals.push(now + s.arrival * s.duration);
          }
        }
        return arrivals.every((t) => arrivals.filter((u) => u > t - windowMs && u <= t).length <= limit);
      }),
    );
  });

  it('follows a limit that changes, counting what was already sent against the new one', () => {
    const now = 0;
    let limit = 5;
    const q = new RollingQuota(
      () => limit,
      1000,
      () => now,
    );
    for (let i = 0; i < 3; i++) {
      expect(q.tryTake()).toBe(true);
      q.finished();
    }
    limit = 2;
    expect(q.tryTake()).toBe(false);
    expect(q.remaining()).toBe(0);
    limit = 4;
    expect(q.tryTake()).toBe(true);
    expect(q.tryTake()).toBe(false);
    expect(q.inWindow()).toBe(4);
  });
});
