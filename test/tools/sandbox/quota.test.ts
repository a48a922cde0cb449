import { describe, expect, it } from 'vitest';
import { RollingQuota } from '../../../connector/tools/sandbox/quota.js';

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

  it('takes several units at once, such as the rows of a batch, and says when enough of them return', () => {
    const quota = new RollingQuota(10, 10_000);
    expect(quota.tryTake(0, 4)).toEqual({ granted: true });
    expect(quota.tryTake(2_000, 5)).toEqual({ granted: true });
    // 9 of 10 spent: 3 more fit only once the 4 taken at 0 leave, at 10 000 ms.
    expect(quota.tryTake(3_000, 3)).toEqual({ granted: false, retryAfterSeconds: 7 });
    // 6 more need both earlier grants gone: the one at 2 000 leaves at 12 000 ms.
    expect(quota.tryTake(3_000, 6)).toEqual({ granted: false, retryAfterSeconds: 9 });
    expect(quota.tryTake(3_000, 1)).toEqual({ granted: true });
    expect(quota.tryTake(10_000, 4)).toEqual({ granted: true });
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
