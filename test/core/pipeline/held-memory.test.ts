/**
 * What an event costs while it waits for a bulk row: a 1,000,000-event backfill holds every event
 * until Target reports its one batch, so each must cost a small object, not its record. Measured
 * in a process of its own started with --expose-gc (setting V8 flags inside a running worker is
 * undefined behaviour, and crashed a later test of the same worker).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { PAYLOAD_BYTES } from './held-memory.measure.js';

/**
 * Heap one parked event may keep: its position in the row's list (offset and fetch time, two
 * numbers) and its offset in the partition's acknowledgement queue, with the arrays' growth
 * slack; not an object of its own (≈ 147 B before, measured the same way).
 */
const MAX_BYTES_PER_PARKED_EVENT = 40;
const HELD = 101_000;

/** Heap retained per event after 100,000 events were handed in and parked, with or without a source that reads records again. */
async function measure(rereadable: boolean): Promise<{ perEvent: number; held: number }> {
  const script = join(import.meta.dirname, 'held-memory.measure.ts');
  const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', script, String(rereadable)]);
  return JSON.parse(stdout) as { perEvent: number; held: number };
}

describe('memory per held event', () => {
  it(`keeps at most ${MAX_BYTES_PER_PARKED_EVENT} bytes per parked event when the source reads records again, and the record when it cannot`, async () => {
    const parked = await measure(true);
    const kept = await measure(false);
    expect(parked.held).toBe(HELD);
    expect(parked.perEvent).toBeLessThanOrEqual(MAX_BYTES_PER_PARKED_EVENT);
    // The same measurement sees the records a source that cannot read them again must keep.
    expect(kept.perEvent).toBeGreaterThan(PAYLOAD_BYTES + parked.perEvent);
  });
});
