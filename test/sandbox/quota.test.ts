import { describe, expect, it } from 'vitest';
import { RollingQuota } from '../../connector/sandbox/quota.js';

describe('RollingQuota', () => {
  it('grants up to the limit in a window, then says when budget returns', () => {
    const quota = new RollingQuota(2, 10_000);
    expect(quota.tryTake(0)).toEqual({ granted: true });
    expect(quota.tryTake(4_000)).toEqual({ granted: true });
    expect(quota.tryTake(4_500)).toEqual({ granted: false, retryAfterSeconds: 6 });
    // The first grant leaves the window at 10 000 ms: exactly one unit returns.
    expect(quota.tryTake(10_000)).toEqual({ granted: true });
    expect(quota.tryTake(10_001)).toEqual({ granted: false, retryAfterSeconds: 4 });
    expect(quota.tryTake(14_000)).toEqual({ granted: true });
  });

  it('never answers Retry-After 0 while refusing', () => {
    const quota = new RollingQuota(1, 300);
    quota.tryTake(0);
    expect(quota.tryTake(299)).toEqual({ granted: false, retryAfterSeconds: 1 });
  });

  it('does not count refusals against the budget', () => {
    const quota = new RollingQuota(1, 1_000);
    quota.tryTake(0);
    for (let t = 1; t < 1_000; t += 100) expect(quota.tryTake(t).granted).toBe(false);
    expect(quota.tryTake(1_000).granted).toBe(true);
  });

  it('keeps the rolling count right across many windows', () => {
    const quota = new RollingQuota(100, 1_000);
    let granted = 0;
    for (let t = 0; t < 50_000; t += 3) if (quota.tryTake(t).granted) granted++;
    // 100 per rolling second over 50 s.
    expect(granted).toBe(5_000);
  });

  it('is unlimited without a limit and empty after clear', () => {
    const unlimited = new RollingQuota(undefined, 1);
    for (let i = 0; i < 1_000; i++) expect(unlimited.tryTake(0).granted).toBe(true);
    const quota = new RollingQuota(1, 1_000);
    quota.tryTake(0);
    quota.clear();
    expect(quota.tryTake(1).granted).toBe(true);
  });
});
