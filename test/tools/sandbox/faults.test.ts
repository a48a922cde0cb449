import { describe, expect, it } from 'vitest';
import { drawFault, mergeFaults, NO_FAULTS } from '../../../connector/tools/sandbox/faults.js';
import { seededRandom } from '../../../connector/core/seeded-random.js';

describe('drawFault', () => {
  const settings = { ...NO_FAULTS, resetRate: 0.1, hangRate: 0.1, failRate: 0.2, rate429: 0.1 };

  it('gives each fault its own band of the draw', () => {
    expect([0, 0.09, 0.1, 0.19, 0.2, 0.39, 0.4, 0.49, 0.5, 0.99].map((u) => drawFault(settings, u))).toEqual([
      'reset',
      'reset',
      'hang',
      'hang',
      'unavailable',
      'unavailable',
      'throttled',
      'throttled',
      'none',
      'none',
    ]);
  });

  it('never faults with the defaults', () => {
    expect(drawFault(NO_FAULTS, 0)).toBe('none');
  });
});

describe('seededRandom', () => {
  it('replays the same sequence for the same seed and a different one for another seed', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const first = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(first);
    expect(Array.from({ length: 5 }, c)).not.toEqual(first);
  });

  it('is roughly uniform in [0, 1)', () => {
    const next = seededRandom(7);
    const draws = Array.from({ length: 10_000 }, next);
    expect(draws.every((u) => u >= 0 && u < 1)).toBe(true);
    expect(draws.filter((u) => u < 0.3).length).toBeGreaterThan(2_800);
    expect(draws.filter((u) => u < 0.3).length).toBeLessThan(3_200);
  });
});

describe('mergeFaults', () => {
  it('applies a partial change', () => {
    expect(mergeFaults(NO_FAULTS, { failRate: 0.5 })).toEqual({ ok: true, settings: { ...NO_FAULTS, failRate: 0.5 } });
  });

  it('lists every invalid field', () => {
    const merged = mergeFaults(NO_FAULTS, { failRate: 2, hangRate: -1, latencyMs: 'slow', bogus: 1 });
    expect(merged.ok).toBe(false);
    expect(!merged.ok && merged.problems).toEqual(expect.arrayContaining(['/failRate must be <= 1', '/hangRate must be >= 0', '/latencyMs must be number']));
    expect(!merged.ok && merged.problems.some((p) => p.includes('additional properties'))).toBe(true);
  });

  it('keeps the bulk row error rate out of the per-request sum, and validates bulk error ids', () => {
    expect(mergeFaults({ ...NO_FAULTS, failRate: 1 }, { bulkRowErrorRate: 1, bulkErrorIds: ['c-1'] })).toMatchObject({
      ok: true,
      settings: { failRate: 1, bulkRowErrorRate: 1, bulkErrorIds: ['c-1'] },
    });
    expect(mergeFaults(NO_FAULTS, { bulkErrorIds: [1] })).toEqual({ ok: false, problems: ['/bulkErrorIds/0 must be string'] });
  });

  it('refuses rates that add up to more than 1', () => {
    expect(mergeFaults({ ...NO_FAULTS, failRate: 0.6 }, { rate429: 0.5 })).toMatchObject({ ok: false });
  });
});
