/**
 * What an event costs while it waits for a bulk row: a 1,000,000-event backfill holds every event
 * until Target reports its one batch, so each must cost a small object, not its record.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { Settlement } from '../../../connector/core/delivery/route.js';
import type { MappingOutcome } from '../../../connector/core/mapping/index.js';
import { EventPipeline, type UpdateDelivery } from '../../../connector/core/pipeline/pipeline.js';
import type { InboundEvent } from '../../../connector/core/pipeline/source.js';
import { RetryPolicy } from '../../../connector/core/retry.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FakeSource } from './fake-source.js';

const HELD = 100_000;
/** A Kafka record's value as the CRM sample events have it (~200 bytes), plus its key and message. */
const PAYLOAD_BYTES = 200;
/** Heap one parked event may keep: its settlement and acknowledgement, and its slot in the row's list. */
const MAX_BYTES_PER_PARKED_EVENT = 160;

/** A delivery that parks every update, as the bulk route does, and holds its settlement until the batch would report. */
class ParkingDelivery implements UpdateDelivery {
  readonly blocked = false;
  readonly held: Settlement[] = [];

  submit(_update: unknown, settlement: Settlement): void {
    settlement.park?.();
    this.held.push(settlement);
  }

  onBlockedChange(): void {}
}

const update: MappingOutcome[] = [{ kind: 'update', update: { identity: { kind: 'mbox3rdPartyId', value: 'c1' }, attributes: { tier: 'GOLD' } } }];

function event(offset: number): InboundEvent<{ key: Buffer; value: Buffer }> {
  const value = Buffer.alloc(PAYLOAD_BYTES, offset % 251);
  return { topic: 'crm', input: 'crm', partition: 0, offset, payload: value, header: () => undefined, message: { key: Buffer.from(`C-${offset}`), value } };
}

/** V8's gc(), exposed at run time for this measurement. */
function collector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

/** Heap retained per event after `HELD` events were handed in and parked, with or without a source that reads records again. */
async function retainedPerEvent(rereadable: boolean): Promise<{ perEvent: number; delivery: ParkingDelivery }> {
  const gc = collector();
  const clock = new FakeClock();
  const source = new FakeSource<{ key: Buffer; value: Buffer }>([{ stream: 'crm', partition: 0 }]);
  if (rereadable) source.reread = async (_input, _partition, offset) => event(offset);
  const delivery = new ParkingDelivery();
  const pipeline = new EventPipeline({
    source,
    decoder: { decode: () => ({}) },
    mapper: { mapEvent: () => update },
    delivery,
    deadLetters: { write: async () => {} },
    commits: { intervalMs: 60_000, threshold: Number.MAX_SAFE_INTEGER },
    maxPending: Number.MAX_SAFE_INTEGER,
    decodeRetry: new RetryPolicy({ initialMs: 1000, maxMs: 10_000, random: () => 0.5 }),
    clock,
  });
  await pipeline.start();
  // Warm the paths (and the arrays' growth) before measuring.
  for (let i = 0; i < 1000; i++) source.accept(event(i));
  gc();
  gc();
  const before = process.memoryUsage();
  for (let i = 1000; i < 1000 + HELD; i++) source.accept(event(i));
  gc();
  gc();
  const after = process.memoryUsage();
  expect(pipeline.pending).toBe(1000 + HELD);
  const retained = after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers);
  return { perEvent: retained / HELD, delivery };
}

describe('memory per held event', () => {
  it(`keeps at most ${MAX_BYTES_PER_PARKED_EVENT} bytes per parked event when the source reads records again, and the record when it cannot`, async () => {
    const parked = await retainedPerEvent(true);
    const kept = await retainedPerEvent(false);
    expect(parked.delivery.held).toHaveLength(1000 + HELD);
    expect(parked.perEvent).toBeLessThanOrEqual(MAX_BYTES_PER_PARKED_EVENT);
    // The same measurement sees the records a source that cannot read them again must keep.
    expect(kept.perEvent).toBeGreaterThan(PAYLOAD_BYTES + parked.perEvent);
  });
});
