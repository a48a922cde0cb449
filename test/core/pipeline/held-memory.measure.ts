/**
 * Measures the heap one held event retains (run by held-memory.test.ts in a process of its own,
 * started with --expose-gc): `node --expose-gc --import tsx held-memory.measure.ts <rereadable>`
 * prints `{"perEvent": bytes, "held": n}`.
 */
import type { Settlement } from '../../../connector/core/delivery/route.js';
import { Settlements } from '../../../connector/core/delivery/settlements.js';
import type { MappingOutcome } from '../../../connector/core/mapping/index.js';
import { EventPipeline, type UpdateDelivery } from '../../../connector/core/pipeline/pipeline.js';
import type { InboundEvent } from '../../../connector/core/pipeline/source.js';
import { RetryPolicy } from '../../../connector/core/retry.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FakeSource } from './fake-source.js';

const HELD = 100_000;
/** A Kafka record's value as the CRM sample events have it (~200 bytes), plus its key and message. */
export const PAYLOAD_BYTES = 200;

/** A delivery that parks every update in a row's list, as the lanes do for a bulk row, until the batch would report. */
class ParkingDelivery implements UpdateDelivery {
  readonly blocked = false;
  readonly held = new Settlements();

  submit(_update: unknown, settlement: Settlement): void {
    this.held.push(settlement, true);
  }

  onBlockedChange(): void {}
}

const update: MappingOutcome[] = [{ kind: 'update', update: { identity: { kind: 'mbox3rdPartyId', value: 'c1' }, attributes: { tier: 'GOLD' } } }];

function event(offset: number): InboundEvent<{ key: Buffer; value: Buffer }> {
  const value = Buffer.alloc(PAYLOAD_BYTES, offset % 251);
  return { topic: 'crm', input: 'crm', partition: 0, offset, payload: value, header: () => undefined, message: { key: Buffer.from(`C-${offset}`), value } };
}

/** Heap retained per event after `HELD` events were handed in and parked, with or without a source that reads records again. */
async function retainedPerEvent(rereadable: boolean): Promise<{ perEvent: number; held: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
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
  if (pipeline.pending !== 1000 + HELD) throw new Error(`${pipeline.pending} events pending, expected ${1000 + HELD}`);
  const retained = after.heapUsed - before.heapUsed + (after.arrayBuffers - before.arrayBuffers);
  return { perEvent: retained / HELD, held: delivery.held.size };
}

if (process.argv[1]?.endsWith('held-memory.measure.ts')) {
  process.stdout.write(`${JSON.stringify(await retainedPerEvent(process.argv[2] === 'true'))}\n`);
}
