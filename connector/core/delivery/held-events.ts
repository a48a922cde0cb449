/**
 * How many events the bulk route may hold for a given heap. Rows settle only when their batch
 * reports, so bulk holds far more events than single updates do; a bound the heap cannot carry
 * ends in an out-of-memory crash (and a crash loop) instead of slower batches. Pure.
 */

/**
 * Heap one held bulk event takes, at worst: the event itself once parked (≤ 40 B: its position,
 * no record, which Kafka reads again for a dead letter; test/core/pipeline/held-memory.test.ts) and, when
 * every event is a profile of its own, that profile's lane and row (≈ 1.2 KB) and the attributes
 * remembered for it once its row succeeded (≈ 0.5 KB): measured, BENCHMARKS.md bulk (run K ran
 * out of a 192 MB heap at 768 B an event).
 */
export const HEAP_PER_HELD_EVENT = 2048;
/**
 * Heap V8's limit must keep for everything but held events: the young generation (counted in the
 * limit, ≈ 48 MB), the live state of a running connector (≈ 55 MB) and the remembered rows of a load.
 */
export const HEAP_BESIDES_HELD_EVENTS = 128 * 1024 * 1024;
/** Fewest events held whatever the heap: below this, batches are too small to be worth sending. */
export const MIN_HELD_EVENTS = 1000;

/** The configured bound, lowered to what fits under V8's heap size limit `heapLimitBytes` (never below MIN_HELD_EVENTS). */
export function heldEventsThatFit(configured: number, heapLimitBytes: number): number {
  const fit = Math.floor((heapLimitBytes - HEAP_BESIDES_HELD_EVENTS) / HEAP_PER_HELD_EVENT);
  return Math.min(configured, Math.max(MIN_HELD_EVENTS, fit));
}
