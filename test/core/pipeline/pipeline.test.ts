/** The event pipeline without a broker or an HTTP server: fake decoder, delivery and dead letters, fake time. */
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../../connector/core/delivery/circuit-breaker.js';
import type { Claim, Settlement } from '../../../connector/core/delivery/lanes.js';
import { Settlements } from '../../../connector/core/delivery/settlements.js';
import { OutageGate } from '../../../connector/core/delivery/outage-gate.js';
import type { UpdateResult } from '../../../connector/core/delivery/send-result.js';
import { DecodeError, RegistryUnavailableError, UnmappableEventError } from '../../../connector/core/errors.js';
import type { MappingOutcome } from '../../../connector/core/mapping/index.js';
import { EventPipeline, type DeadLetterSink, type EventOutcome, type PayloadDecoder, type UpdateDelivery } from '../../../connector/core/pipeline/pipeline.js';
import type { InboundEvent } from '../../../connector/core/pipeline/source.js';
import { REPLAY_OMIT_HEADER } from '../../../connector/core/pipeline/superseded.js';
import type { ProfileUpdate } from '../../../connector/core/profile.js';
import { RetryPolicy } from '../../../connector/core/retry.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FakeSource } from './fake-source.js';

/** Payloads are JSON here; the fake mapper reads `{ id, attrs, fail, filter }`. */
interface Value {
  id?: string;
  attrs?: Record<string, string>;
  also?: { id: string; attrs: Record<string, string> };
  fail?: string;
  filter?: string;
}

function mapEvent(_topic: string, value: unknown): MappingOutcome[] {
  const v = value as Value;
  const outcomes: MappingOutcome[] = [];
  if (v.filter) outcomes.push({ kind: 'filtered', reason: v.filter });
  if (v.id) outcomes.push({ kind: 'update', update: { identity: { kind: 'mbox3rdPartyId', value: v.id }, attributes: v.attrs ?? {} } });
  if (v.also) outcomes.push({ kind: 'update', update: { identity: { kind: 'mbox3rdPartyId', value: v.also.id }, attributes: v.also.attrs } });
  if (v.fail) outcomes.push({ kind: 'error', error: new UnmappableEventError(v.fail) });
  return outcomes;
}

const jsonDecoder: PayloadDecoder = {
  decode: (_topic, payload) => JSON.parse(Buffer.from(payload).toString('utf8')) as unknown,
};

/** A delivery whose updates settle when the test says so. */
class HeldDelivery implements UpdateDelivery {
  blocked = false;
  readonly submitted: Array<{ update: ProfileUpdate; settlement: Settlement; claim?: Claim }> = [];
  private readonly listeners: Array<() => void> = [];

  submit(update: ProfileUpdate, settlement: Settlement, claim?: Claim): void {
    this.submitted.push({ update, settlement, claim });
  }

  onBlockedChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  setBlocked(blocked: boolean): void {
    this.blocked = blocked;
    for (const l of this.listeners) l();
  }

  /** Settles every submitted update still waiting with `result`. */
  settleAll(result: UpdateResult = { status: 'delivered' }): void {
    for (const s of this.submitted.splice(0)) s.settlement.settle(result);
  }
}

class Event implements InboundEvent<string> {
  readonly input = 'in';
  readonly partition = 0;
  readonly payload: Buffer | null;
  readonly message: string;

  constructor(
    readonly offset: number,
    value: Value | null,
    private readonly headers: Record<string, string> = {},
  ) {
    this.payload = value === null ? null : Buffer.from(JSON.stringify(value));
    this.message = `m${offset}`;
  }

  readonly topic = 'crm';

  header(name: string): string | undefined {
    return this.headers[name];
  }
}

async function setup(
  over: { decoder?: PayloadDecoder; deadLetters?: DeadLetterSink<string>; maxPending?: number; outageBudgetMs?: number; reread?: boolean } = {},
) {
  const clock = new FakeClock();
  const delivery = new HeldDelivery();
  const source = new FakeSource<string>([{ stream: 'in', partition: 0 }]);
  const rereads: number[] = [];
  if (over.reread) {
    // Read again as Kafka would: the same record at that position (its message names the offset).
    source.reread = async (_input, _partition, offset) => {
      rereads.push(offset);
      return new Event(offset, { id: 'reread' });
    };
  }
  const letters: Array<{ message: string; code: string }> = [];
  const outcomes = new Map<number, EventOutcome>();
  const fatal: Error[] = [];
  const decodeRetry = new RetryPolicy({ initialMs: 1000, maxMs: 10_000, random: () => 0.5 });
  const decodeGate = new OutageGate({
    breaker: new CircuitBreaker({ endpoint: 'schema registry', threshold: 1, probePolicy: decodeRetry, clock }),
    endpoint: 'the schema registry',
    outageBudgetMs: over.outageBudgetMs,
    clock,
  });
  decodeGate.onBudgetExhausted((e) => fatal.push(e));
  const pipeline = new EventPipeline<string>({
    source,
    decoder: over.decoder ?? jsonDecoder,
    mapper: { mapEvent },
    delivery,
    deadLetters: over.deadLetters ?? {
      write: async ({ event, error }) => {
        letters.push({ message: event.message, code: (error as { code: string }).code });
      },
    },
    commits: { intervalMs: 0, threshold: 1 },
    maxPending: over.maxPending ?? 100,
    decodeRetry,
    decodeGate,
    clock,
    observer: {
      settled: (event, outcome) => outcomes.set(event.offset, outcome),
    },
  });
  await pipeline.start();
  const lastCommit = () => source.lastCommit('in');
  return { clock, delivery, source, pipeline, letters, outcomes, fatal, lastCommit, rereads };
}

describe('EventPipeline', () => {
  it("lets go of a parked event's record when the source can read it again, and reads it again for its dead letter", async () => {
    const t = await setup({ reread: true });
    t.pipeline.accept(new Event(0, { id: 'a', attrs: { tier: 'GOLD' } }));
    t.pipeline.accept(new Event(1, { id: 'b', attrs: { tier: 'GOLD' } }));
    const [parked, kept] = t.delivery.submitted;
    // An event of one update hands itself to the list as its position, and ends through it.
    const list = new Settlements();
    expect(parked?.settlement.park?.(list)).toBe(true);
    expect(list.size).toBe(1);
    list.settle({ status: 'failed', error: new UnmappableEventError('refused'), attempts: 2 });
    kept?.settlement.settle({ status: 'failed', error: new UnmappableEventError('refused'), attempts: 1 });
    await t.clock.advance(0);
    // Only the parked one was read again; the other still had its record.
    expect(t.rereads).toEqual([0]);
    expect(t.letters.map((l) => l.message).sort()).toEqual(['m0', 'm1']);
    expect(t.lastCommit()).toBe('2');
  });

  it('ends events parked as positions like held ones: acknowledged in any order, one of several updates stays an object, an old lease acknowledges nothing', async () => {
    const t = await setup({ reread: true });
    for (let offset = 0; offset < 3; offset++) t.pipeline.accept(new Event(offset, { id: `p${offset}`, attrs: { n: '1' } }));
    t.pipeline.accept(new Event(3, { id: 'p3', attrs: { n: '1' }, also: { id: 'q3', attrs: { n: '1' } } }));
    const list = new Settlements();
    const parked = t.delivery.submitted.splice(0).map((s) => s.settlement.park?.(list));
    // Offsets 0-2 are positions; both updates of offset 3 keep their event, which counts them.
    expect(parked).toEqual([true, true, true, false, false]);
    expect(list.size).toBe(3);
    list.settle({ status: 'delivered' });
    await t.clock.advance(0);
    expect([...t.outcomes.keys()].sort()).toEqual([0, 1, 2]);
    expect(t.outcomes.get(2)).toEqual({ kind: 'delivered', updates: 1 });
    expect(t.lastCommit()).toBe('3');
    expect(t.pipeline.pending).toBe(1);
    // A new assignment of the partition: a position kept under the old lease acknowledges nothing.
    t.source.to.revoked();
    t.source.to.assigned([{ stream: 'in', partition: 0 }]);
    t.pipeline.accept(new Event(4, { id: 'p4', attrs: { n: '1' } }));
    const fresh = new Settlements();
    expect(t.delivery.submitted.at(-1)?.settlement.park?.(fresh)).toBe(true);
    fresh.settle({ status: 'delivered' });
    await t.clock.advance(0);
    expect(t.lastCommit()).toBe('5');
  });

  it("keeps a parked event's record when the source cannot read it again (stdin)", async () => {
    const t = await setup();
    t.pipeline.accept(new Event(0, { id: 'a', attrs: { tier: 'GOLD' } }));
    // The event keeps its record, and itself: nothing is handed to the list.
    const list = new Settlements();
    expect(t.delivery.submitted[0]?.settlement.park?.(list)).toBe(false);
    expect(list.size).toBe(0);
    t.delivery.submitted[0]?.settlement.settle({ status: 'failed', error: new UnmappableEventError('refused'), attempts: 1 });
    await t.clock.advance(0);
    expect(t.letters.map((l) => l.message)).toEqual(['m0']);
    expect(t.lastCommit()).toBe('1');
  });

  it('sends the updates of an event and acknowledges it once every update is delivered', async () => {
    const t = await setup();
    t.pipeline.accept(new Event(0, { id: 'a', attrs: { tier: 'GOLD' }, also: { id: 'b', attrs: { x: '1' } } }));
    expect(t.delivery.submitted.map((s) => s.update.identity.value)).toEqual(['a', 'b']);
    expect(t.delivery.submitted[0]?.claim?.owned).toBe(true);
    t.delivery.submitted[0]?.settlement.settle({ status: 'delivered' });
    await t.clock.advance(0);
    expect(t.outcomes.size).toBe(0);
    t.delivery.settleAll();
    await t.clock.advance(0);
    expect(t.outcomes.get(0)).toEqual({ kind: 'delivered', updates: 2 });
    expect(t.lastCommit()).toBe('1');
    expect(t.pipeline.pending).toBe(0);
  });

  it('acknowledges filtered events and tombstones without sending anything', async () => {
    const t = await setup();
    t.pipeline.accept(new Event(0, { filter: 'when: eventType is DELETED' }));
    t.pipeline.accept(new Event(1, null));
    await t.clock.advance(0);
    expect(t.delivery.submitted).toHaveLength(0);
    expect(t.outcomes.get(0)).toEqual({ kind: 'filtered', reason: 'when: eventType is DELETED' });
    expect(t.outcomes.get(1)).toEqual({ kind: 'filtered', reason: 'tombstone (null value)' });
    expect(t.lastCommit()).toBe('2');
  });

  it('dead-letters an event whole when one of its mappings fails, and acknowledges it only once the letter is stored', async () => {
    let store: () => void = () => {};
    const stored = new Promise<void>((resolve) => (store = resolve));
    const t = await setup({ deadLetters: { write: () => stored } });
    t.pipeline.accept(new Event(0, { id: 'a', attrs: { x: '1' }, fail: 'no identity' }));
    await t.clock.advance(0);
    expect(t.delivery.submitted).toHaveLength(0);
    expect(t.lastCommit()).toBeUndefined();
    store();
    await t.clock.advance(0);
    expect(t.outcomes.get(0)).toMatchObject({ kind: 'failed', attempts: 0, error: { code: 'UNMAPPABLE_EVENT' } });
    expect(t.lastCommit()).toBe('1');
  });

  it('dead-letters what cannot be decoded, and an update that fails for good, with its attempts', async () => {
    const t = await setup({
      decoder: {
        decode: (_t, _p, origin) => {
          throw new DecodeError(origin, 'not Avro');
        },
      },
    });
    t.pipeline.accept(new Event(0, { id: 'a' }));
    await t.clock.advance(0);
    expect(t.letters).toEqual([{ message: 'm0', code: 'DECODE_FAILED' }]);

    const u = await setup();
    u.pipeline.accept(new Event(0, { id: 'a', attrs: { x: '1' } }));
    u.delivery.settleAll({ status: 'failed', error: new UnmappableEventError('too large'), attempts: 3 });
    await u.clock.advance(0);
    expect(u.outcomes.get(0)).toMatchObject({ kind: 'failed', attempts: 3 });
    expect(u.letters).toEqual([{ message: 'm0', code: 'UNMAPPABLE_EVENT' }]);
  });

  it('never acknowledges an event whose dead letter could not be stored', async () => {
    const t = await setup({ deadLetters: { write: () => Promise.reject(new Error('stopped')) } });
    t.pipeline.accept(new Event(0, { fail: 'bad' }));
    t.pipeline.accept(new Event(1, { filter: 'f' }));
    await t.clock.advance(0);
    expect(t.outcomes.has(0)).toBe(false);
    expect(t.lastCommit()).toBeUndefined();
    expect(t.pipeline.pending).toBe(2);
    expect(await t.pipeline.drain(0)).toBe(true);
  });

  it('leaves out what a replayed copy must not set again, filtering it when nothing is left', async () => {
    const t = await setup();
    const omit = JSON.stringify({ 'mbox3rdPartyId:a': ['tier'] });
    t.pipeline.accept(new Event(0, { id: 'a', attrs: { tier: 'BRONZE', city: 'Malmö' } }, { [REPLAY_OMIT_HEADER]: omit }));
    t.pipeline.accept(new Event(1, { id: 'a', attrs: { tier: 'BRONZE' } }, { [REPLAY_OMIT_HEADER]: omit }));
    await t.clock.advance(0);
    expect(t.delivery.submitted.map((s) => s.update.attributes)).toEqual([{ city: 'Malmö' }]);
    expect(t.outcomes.get(1)).toEqual({ kind: 'filtered', reason: 'superseded by later events (replay)' });
  });

  it('waits out an unreachable registry while decoding, keeping the partition alive and skipping nothing', async () => {
    let down = true;
    let keptAlive = 0;
    const decoder: PayloadDecoder = {
      decode: (topic, payload, origin) => (down ? Promise.reject(new RegistryUnavailableError('registry down')) : jsonDecoder.decode(topic, payload, origin)),
    };
    const t = await setup({ decoder });
    const waiting = t.pipeline.accept(new Event(0, { id: 'a', attrs: { x: '1' } }), async () => {
      keptAlive++;
    });
    expect(waiting).toBeInstanceOf(Promise);
    await t.clock.advance(60_000);
    expect(t.delivery.submitted).toHaveLength(0);
    expect(keptAlive).toBeGreaterThan(5);
    down = false;
    await t.clock.until(() => t.delivery.submitted.length === 1);
    await waiting;
    expect(t.letters).toEqual([]);
  });

  it('ends the run when decoding waits longer than the outage budget, acknowledging nothing', async () => {
    const decoder: PayloadDecoder = { decode: () => Promise.reject(new RegistryUnavailableError('registry down')) };
    const t = await setup({ decoder, outageBudgetMs: 30_000 });
    const waiting = t.pipeline.accept(new Event(0, { id: 'a' }));
    await t.clock.until(() => t.fatal.length > 0, 120_000);
    await waiting;
    expect(t.fatal[0]).toMatchObject({ code: 'OUTAGE_BUDGET_EXHAUSTED' });
    expect(t.letters).toEqual([]);
    expect(t.lastCommit()).toBeUndefined();
  });

  it('on revoke commits what is done, ends the claims of queued work, and acknowledges nothing more for the old assignment', async () => {
    const t = await setup();
    t.pipeline.accept(new Event(0, { filter: 'f' }));
    t.pipeline.accept(new Event(1, { id: 'a', attrs: { x: '1' } }));
    await t.clock.advance(0);
    const claim = t.delivery.submitted[0]?.claim;
    t.source.to.revoked();
    expect(claim?.owned).toBe(false);
    t.delivery.settleAll({ status: 'cancelled' });
    await t.clock.advance(0);
    expect(t.outcomes.has(1)).toBe(false);
    expect(t.pipeline.pending).toBe(0);
    expect(await t.pipeline.drain(0)).toBe(true);
  });

  it('is full at max_pending or while delivery is blocked, and has room again at half the bound, without polling', async () => {
    const t = await setup({ maxPending: 4 });
    for (let i = 0; i < 4; i++) t.pipeline.accept(new Event(i, { id: `p${i}`, attrs: { x: '1' } }));
    expect(t.pipeline.full).toBe(true);
    let notFull = false;
    let room = false;
    void t.pipeline.whenNotFull().then(() => (notFull = true));
    void t.pipeline.whenRoom().then(() => (room = true));
    t.delivery.submitted.shift()?.settlement.settle({ status: 'delivered' });
    await t.clock.advance(0);
    expect([notFull, room]).toEqual([true, false]);
    t.delivery.submitted.shift()?.settlement.settle({ status: 'delivered' });
    await t.clock.advance(0);
    expect(room).toBe(true);

    t.delivery.setBlocked(true);
    expect(t.pipeline.full).toBe(true);
    let unblocked = false;
    void t.pipeline.whenRoom().then(() => (unblocked = true));
    await t.clock.advance(0);
    expect(unblocked).toBe(false);
    t.delivery.setBlocked(false);
    await t.clock.advance(0);
    expect(unblocked).toBe(true);
  });

  it('drains: resolves true once everything settled, false after the timeout', async () => {
    const t = await setup();
    t.pipeline.accept(new Event(0, { id: 'a', attrs: { x: '1' } }));
    const timedOut = t.pipeline.drain(5000);
    await t.clock.advance(5000);
    expect(await timedOut).toBe(false);
    const drained = t.pipeline.drain(5000);
    t.delivery.settleAll();
    await t.clock.advance(0);
    expect(await drained).toBe(true);
  });
});
