import { describe, expect, it } from 'vitest';
import { HEAP_BESIDES_HELD_EVENTS, HEAP_PER_HELD_EVENT, heldEventsThatFit, MIN_HELD_EVENTS } from '../../../connector/core/delivery/held-events.js';

const MB = 1024 * 1024;
/** v8.getHeapStatistics().heap_size_limit under --max-old-space-size=192 and =512 (Node 20: the young generation's 48 MB on top). */
const LIMIT_OLD_192 = 240 * MB;
const LIMIT_OLD_512 = 560 * MB;

describe('heldEventsThatFit', () => {
  it('keeps the configured bound when the heap carries it (V8 on a large host, or the 512 MB docs/operations.md advises)', () => {
    expect(heldEventsThatFit(200_000, 4096 * MB)).toBe(200_000);
    expect(heldEventsThatFit(200_000, LIMIT_OLD_512)).toBe(200_000);
  });

  it("lowers it to what fits under a small heap: the Kubernetes example's 192 MB", () => {
    const fit = heldEventsThatFit(200_000, LIMIT_OLD_192);
    expect(fit).toBe(Math.floor((LIMIT_OLD_192 - HEAP_BESIDES_HELD_EVENTS) / HEAP_PER_HELD_EVENT));
    expect(fit).toBeLessThan(200_000);
    // Held events and a running connector's ≈ 55 MB of live state stay inside the 192 MB old space.
    expect(fit * HEAP_PER_HELD_EVENT + 55 * MB).toBeLessThanOrEqual(192 * MB);
  });

  it('never goes below a useful batch, nor above what was configured', () => {
    expect(heldEventsThatFit(200_000, 64 * MB)).toBe(MIN_HELD_EVENTS);
    expect(heldEventsThatFit(500, 64 * MB)).toBe(500);
  });
});
