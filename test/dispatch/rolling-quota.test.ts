import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RollingQuota } from '../../connector/dispatch/rolling-quota.js';
import { backoffDelay } from '../../connector/dispatch/backoff.js';

describe('RollingQuota', () => {
  it('refuses once the window is full and frees budget a window later', () => {
    let now = 0;
    const q = new RollingQuota(2, 1000, () => now);
    expect(q.tryTake()).toBe(true);
    expect(q.tryTake()).toBe(true);
    expect(q.tryTake()).toBe(false);
    expect(q.remaining()).toBe(0);
    const wait = q.msUntilAvailable();
    expect(wait).toBeGreaterThanOrEqual(1000);
    now += wait;
    expect(q.tryTake()).toBe(true);
  });

  it('never lets any window hold more than the limit, for any request times', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(50), { minLength: 1, maxLength: 400 }), fc.integer({ min: 1, max: 20 }), (gaps, limit) => {
        const windowMs = 100;
        let now = 0;
        const q = new RollingQuota(limit, windowMs, () => now);
        const granted: number[] = [];
        for (const gap of gaps) {
          now += gap;
          if (q.tryTake()) granted.push(now);
        }
        return granted.every((t) => granted.filter((u) => u > t - windowMs && u <= t).length <= limit);
      }),
    );
  });
});

describe('backoffDelay', () => {
  it('grows exponentially, is capped, and honours Retry-After as a floor', () => {
    const policy = { initialMs: 100, maxMs: 1000 };
    expect(backoffDelay(1, policy, () => 0.999)).toBe(99);
    expect(backoffDelay(3, policy, () => 0.999)).toBe(399);
    expect(backoffDelay(10, policy, () => 0.999)).toBe(999);
    expect(backoffDelay(1, policy, () => 0)).toBe(0);
    expect(backoffDelay(1, policy, () => 0.5, 5000)).toBe(5000);
  });
});
