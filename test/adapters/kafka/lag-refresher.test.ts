/** The lag refresher on fake time: what Kafka reports reaches the gauge, on a timer and after commits, for owned partitions only. */
import { describe, expect, it } from 'vitest';
import type { PartitionLag } from '../../../connector/adapters/kafka/group-lag.js';
import { LagRefresher } from '../../../connector/adapters/kafka/lag-refresher.js';
import { FakeClock } from '../../support/fake-clock.js';

/** A refresher over a fake Kafka whose lags the test sets, recording what the gauge gets. */
function setup(options: { failing?: () => boolean; answer?: () => Promise<void> } = {}) {
  const clock = new FakeClock();
  let kafka: PartitionLag[] = [];
  let reads = 0;
  const gauge = new Map<string, number>();
  const debug: string[] = [];
  const refresher = new LagRefresher({
    read: async () => {
      reads++;
      const lags = kafka.map((l) => ({ ...l }));
      await options.answer?.();
      if (options.failing?.()) throw new Error('the coordinator is not available');
      return lags;
    },
    observer: {
      lag: (topic, partition, lag) => gauge.set(`${topic}/${partition}`, lag),
      released: (topic, partition) => gauge.delete(`${topic}/${partition}`),
    },
    everyMs: 5000,
    minGapMs: 1000,
    logger: { debug: ((_obj: unknown, msg: string) => debug.push(msg)) as never },
    clock,
  });
  return {
    clock,
    refresher,
    gauge,
    debug,
    reads: () => reads,
    kafkaSays: (lags: Array<[string, number, number]>) => (kafka = lags.map(([topic, partition, lag]) => ({ topic, partition, lag }))),
  };
}

describe('LagRefresher', () => {
  it("reads Kafka's lag at once on an assignment and then on its timer, whether or not anything is fetched", async () => {
    const t = setup();
    t.kafkaSays([
      ['a', 0, 10],
      ['a', 1, 0],
    ]);
    t.refresher.own([
      { topic: 'a', partition: 0 },
      { topic: 'a', partition: 1 },
    ]);
    await t.clock.advance(0);
    expect(Object.fromEntries(t.gauge)).toEqual({ 'a/0': 10, 'a/1': 0 });
    // An outage: nothing is fetched or committed, and the lag grows in Kafka.
    t.kafkaSays([
      ['a', 0, 4270],
      ['a', 1, 3],
    ]);
    await t.clock.advance(4999);
    expect(t.gauge.get('a/0')).toBe(10);
    await t.clock.advance(1);
    expect(Object.fromEntries(t.gauge)).toEqual({ 'a/0': 4270, 'a/1': 3 });
    t.refresher.close();
  });

  it('reads again soon after a commit, so that the gauge says 0 once everything is committed, without reading more than once per gap', async () => {
    const t = setup();
    t.kafkaSays([['a', 0, 3]]);
    t.refresher.own([{ topic: 'a', partition: 0 }]);
    await t.clock.advance(0);
    expect(t.reads()).toBe(1);
    t.kafkaSays([['a', 0, 0]]);
    t.refresher.refreshSoon();
    t.refresher.refreshSoon();
    await t.clock.advance(999);
    expect(t.gauge.get('a/0')).toBe(3);
    await t.clock.advance(1);
    expect(t.gauge.get('a/0')).toBe(0);
    expect(t.reads()).toBe(2);
    t.refresher.close();
  });

  it('reports only the partitions this member owns and releases the ones it lost, even when a read in flight still carries them', async () => {
    let answer: (() => void) | undefined;
    const t = setup({ answer: () => (answer ? new Promise<void>((resolve) => (answer = resolve)) : Promise.resolve()) });
    t.kafkaSays([
      ['a', 0, 5],
      ['a', 1, 6],
      ['b', 0, 7],
    ]);
    t.refresher.own([
      { topic: 'a', partition: 0 },
      { topic: 'a', partition: 1 },
    ]);
    await t.clock.advance(0);
    expect(Object.fromEntries(t.gauge)).toEqual({ 'a/0': 5, 'a/1': 6 });
    // The next read starts, then a rebalance takes a/1 away (and gives b/0) before Kafka answers.
    answer = () => {};
    t.kafkaSays([
      ['a', 0, 50],
      ['a', 1, 60],
      ['b', 0, 70],
    ]);
    await t.clock.advance(5000);
    expect(t.reads()).toBe(2);
    t.refresher.own([
      { topic: 'a', partition: 0 },
      { topic: 'b', partition: 0 },
    ]);
    expect(Object.fromEntries(t.gauge)).toEqual({ 'a/0': 5 });
    answer();
    answer = undefined;
    await t.clock.advance(0);
    expect(t.gauge.get('a/1')).toBeUndefined();
    expect(t.gauge.get('a/0')).toBe(50);
    // The read the new assignment asked for follows.
    await t.clock.advance(1000);
    expect(Object.fromEntries(t.gauge)).toEqual({ 'a/0': 50, 'b/0': 70 });
    t.refresher.close();
  });

  it('keeps the last figure when Kafka cannot be read, logs it at debug, and reads again on the next tick', async () => {
    let failing = false;
    const t = setup({ failing: () => failing });
    t.kafkaSays([['a', 0, 8]]);
    t.refresher.own([{ topic: 'a', partition: 0 }]);
    await t.clock.advance(0);
    failing = true;
    t.kafkaSays([['a', 0, 9]]);
    await t.clock.advance(5000);
    expect(t.gauge.get('a/0')).toBe(8);
    expect(t.debug).toEqual(['could not read the consumer lag from Kafka']);
    failing = false;
    await t.clock.advance(5000);
    expect(t.gauge.get('a/0')).toBe(9);
    t.refresher.close();
  });

  it('reads nothing while it owns no partition, and nothing after it is closed', async () => {
    const t = setup();
    t.kafkaSays([['a', 0, 1]]);
    t.refresher.own([]);
    await t.clock.advance(20_000);
    expect(t.reads()).toBe(0);
    t.refresher.own([{ topic: 'a', partition: 0 }]);
    t.refresher.close();
    t.refresher.refreshSoon();
    await t.clock.advance(20_000);
    expect(t.reads()).toBe(0);
    expect(t.clock.pending).toBe(0);
    expect(t.gauge.size).toBe(0);
  });
});
