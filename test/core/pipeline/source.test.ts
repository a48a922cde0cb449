/**
 * The pipeline driving its one Source port, with no broker: assignment changes reach the
 * acknowledgements in one hop, only acknowledged prefixes of owned partitions are committed
 * through the port, and backpressure and fatal errors are asked of the source by the pipeline.
 */
import { describe, expect, it } from 'vitest';
import type { Settlement } from '../../../connector/core/delivery/route.js';
import type { UpdateResult } from '../../../connector/core/delivery/send-result.js';
import { OutageBudgetError } from '../../../connector/core/errors.js';
import { RunControl } from '../../../connector/core/pipeline/control.js';
import { Backlog } from '../../../connector/core/pipeline/lag-signal.js';
import { EventPipeline, type UpdateDelivery } from '../../../connector/core/pipeline/pipeline.js';
import type { InboundEvent, SourcePartition } from '../../../connector/core/pipeline/source.js';
import type { ProfileUpdate } from '../../../connector/core/profile.js';
import { RetryPolicy } from '../../../connector/core/retry.js';
import { FakeClock } from '../../support/fake-clock.js';
import { FakeSource } from './fake-source.js';

/** Every update is held until the test settles it by its profile id. */
class HeldDelivery implements UpdateDelivery {
  readonly blocked = false;
  readonly held = new Map<string, Settlement>();

  submit(update: ProfileUpdate, settlement: Settlement): void {
    this.held.set(update.identity.value, settlement);
  }

  onBlockedChange(): void {}

  settle(id: string, result: UpdateResult = { status: 'delivered' }): void {
    this.held.get(id)?.settle(result);
    this.held.delete(id);
  }
}

/** An event of `stream` partition `partition` whose update is for profile `id`. */
function event(stream: string, partition: number, offset: number, id = `${stream}-${partition}-${offset}`): InboundEvent<string> {
  return { topic: stream, input: stream, partition, offset, payload: new TextEncoder().encode(id), header: () => undefined, message: id };
}

async function setup(owned: SourcePartition[], over: { holdMs?: number; maxPending?: number } = {}) {
  const clock = new FakeClock();
  const delivery = new HeldDelivery();
  const source = new FakeSource<string>(owned, over.holdMs);
  const control = new RunControl();
  const followed: SourcePartition[][] = [];
  const pipeline = new EventPipeline<string>({
    source,
    decoder: { decode: (_topic, payload) => new TextDecoder().decode(payload) },
    mapper: { mapEvent: (_topic, id) => [{ kind: 'update', update: { identity: { kind: 'mbox3rdPartyId', value: id as string }, attributes: { x: '1' } } }] },
    delivery,
    deadLetters: { write: async () => {} },
    commits: { intervalMs: 0, threshold: 1 },
    followers: [{ owns: (partitions) => followed.push(partitions) }],
    maxPending: over.maxPending ?? 100,
    decodeRetry: new RetryPolicy({ initialMs: 1000, maxMs: 1000, random: () => 0.5 }),
    clock,
  });
  control.onFatal(() => pipeline.halt());
  await pipeline.start();
  return { clock, delivery, source, control, pipeline, followed };
}

describe('EventPipeline driving its Source', () => {
  it('owns what the source was assigned as soon as it is told, and tells the followers after', async () => {
    const t = await setup([{ stream: 'a', partition: 0 }]);
    expect(t.followed).toEqual([[{ stream: 'a', partition: 0 }]]);
    // One hop: the partition is tracked at once, an unowned one is not.
    t.source.accept(event('a', 0, 0));
    t.source.accept(event('b', 0, 0));
    expect(t.pipeline.pending).toBe(1);
    expect([...t.delivery.held.keys()]).toEqual(['a-0-0']);
  });

  it('commits through the port only the acknowledged prefix, whatever order acknowledgements come in', async () => {
    const t = await setup([{ stream: 'a', partition: 0 }]);
    for (let o = 0; o < 3; o++) t.source.accept(event('a', 0, o));
    t.delivery.settle('a-0-2');
    t.delivery.settle('a-0-1');
    await t.clock.advance(0);
    expect(t.source.committed).toEqual([]);
    t.delivery.settle('a-0-0');
    await t.clock.advance(0);
    expect(t.source.lastCommit('a')).toBe('3');
    expect(t.pipeline.pending).toBe(0);
  });

  it('on revoke mid-flight commits what was acknowledged, then nothing for the partitions it gave up', async () => {
    const t = await setup([
      { stream: 'a', partition: 0 },
      { stream: 'a', partition: 1 },
    ]);
    t.source.holdCommits = true;
    t.source.accept(event('a', 0, 0));
    t.source.accept(event('a', 0, 1));
    t.source.accept(event('a', 1, 0));
    t.delivery.settle('a-0-0');
    t.source.to.revoked();
    // Updates still in flight for the old assignment settle after it ended.
    t.delivery.settle('a-0-1');
    t.delivery.settle('a-1-0');
    t.source.holdCommits = false;
    t.source.release();
    await t.clock.advance(0);
    expect(t.source.committed).toEqual([[{ stream: 'a', partition: 0, offset: '1' }]]);

    // The new owner of partition 1 is another member: only partition 0 comes back here.
    t.source.to.assigned([{ stream: 'a', partition: 0 }]);
    t.source.accept(event('a', 1, 1));
    t.source.accept(event('a', 0, 1, 'again'));
    t.delivery.settle('a-1-1');
    t.delivery.settle('again');
    await t.clock.advance(0);
    expect(t.source.committed.flat().filter((c) => c.partition === 1)).toEqual([]);
    expect(t.source.lastCommit('a', 0)).toBe('2');
  });

  it('asks the source to pause when it stays full past holdMs, and to resume once half the room is back', async () => {
    const t = await setup([{ stream: 'a', partition: 0 }], { holdMs: 1000, maxPending: 4 });
    for (let o = 0; o < 4; o++) t.source.accept(event('a', 0, o));
    expect(t.source.to.full).toBe(true);
    const room = t.source.to.room();
    await t.clock.advance(1000);
    expect(await room).toBe(false);
    expect(t.source.asked).toEqual(['pause']);
    t.delivery.settle('a-0-0');
    await t.clock.advance(0);
    expect(t.source.asked).toEqual(['pause']);
    t.delivery.settle('a-0-1');
    await t.clock.advance(0);
    expect(t.source.asked).toEqual(['pause', 'resume']);
  });

  it('on a fatal error stops fetching for good: no resume, nothing committed past what was acknowledged', async () => {
    const t = await setup([{ stream: 'a', partition: 0 }], { holdMs: 1000, maxPending: 2 });
    t.source.accept(event('a', 0, 0));
    t.source.accept(event('a', 0, 1));
    const room = t.source.to.room();
    await t.clock.advance(1000);
    expect(await room).toBe(false);
    t.control.fatal(new OutageBudgetError('Target has been down for longer than the outage budget'));
    t.delivery.settle('a-0-0');
    t.delivery.settle('a-0-1');
    await t.clock.advance(0);
    expect(t.source.asked).toEqual(['pause', 'pause']);
    expect(t.source.paused).toBe(true);
    expect(await t.source.to.room()).toBe(false);
    expect(t.source.lastCommit('a')).toBe('2');
  });

  it('close stops fetching, drains, and commits the acknowledged prefix last', async () => {
    const t = await setup([{ stream: 'a', partition: 0 }]);
    t.source.accept(event('a', 0, 0));
    const closing = t.pipeline.close();
    expect(t.source.paused).toBe(true);
    t.delivery.settle('a-0-0');
    await t.clock.advance(0);
    expect(await closing).toBe(true);
    expect(t.source.lastCommit('a')).toBe('1');
  });
});

describe('Backlog (the LagSignal the route decides on)', () => {
  it('decides on the sum over partitions, and forgets them at a new assignment', () => {
    const decided: number[] = [];
    const backlog = new Backlog({ observe: (behind) => decided.push(behind) }, { remaining: () => 1000 });
    backlog.behind('a', 0, 100);
    backlog.behind('a', 1, 50);
    backlog.behind('a', 0, 10);
    backlog.owns([{ stream: 'a', partition: 1 }]);
    backlog.behind('a', 1, 5);
    expect(decided).toEqual([100, 150, 60, 5]);
  });
});
