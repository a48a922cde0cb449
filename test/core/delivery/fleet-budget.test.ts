import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AssignmentShare } from '../../../connector/core/delivery/assignment-share.js';
import { FleetBudget, type FleetBudgetObserver, type SharedWindowStore } from '../../../connector/core/delivery/fleet-budget.js';
import { FakeClock, flushPromises } from '../../support/fake-clock.js';

/** The Redis script's rules in memory: units count from their reservation until a window after reservation + hold. */
class MemoryWindow implements SharedWindowStore {
  readonly entries: Array<{ at: number; units: number }> = [];
  reserves = 0;
  down = false;
  epoch = 'first';

  /** Loses the window, as a Redis restarted without persistence does. */
  reset(): void {
    this.entries.length = 0;
    this.epoch = 'second';
  }

  constructor(
    private readonly clock: { now(): number },
    private readonly holdMs: number,
  ) {}

  used(windowMs: number): number {
    const now = this.clock.now();
    return this.entries.filter((e) => e.at + this.holdMs + windowMs > now).reduce((sum, e) => sum + e.units, 0);
  }

  async reserve(want: number, atLeast: number, limit: number, windowMs: number) {
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    this.reserves++;
    const used = this.used(windowMs);
    let granted = Math.max(0, Math.min(want, limit - used));
    if (granted < atLeast) granted = 0;
    if (granted > 0) this.entries.push({ at: this.clock.now(), units: granted });
    const live = this.entries.filter((e) => e.at + this.holdMs + windowMs > this.clock.now());
    const oldest = Math.min(...live.map((e) => e.at));
    return { granted, used: used + granted, retryInMs: live.length > 0 ? oldest + this.holdMs + windowMs - this.clock.now() : 0, epoch: this.epoch };
  }

  async record(units: number) {
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    if (units > 0) this.entries.push({ at: this.clock.now(), units });
    return { epoch: this.epoch };
  }
}

const WINDOW = 10_000;
const HOLD = 2_000;

function budgetOn(store: SharedWindowStore, clock: FakeClock, share: AssignmentShare, observer?: FleetBudgetObserver, limit = 1000): FleetBudget {
  return new FleetBudget({
    name: 'requests',
    store,
    limit,
    windowMs: WINDOW,
    holdMs: HOLD,
    poolTtlMs: 1000,
    share,
    clock,
    maxBatch: 20,
    reconnectMs: 1000,
    observer,
  });
}

/** Takes `n` units one by one as the lanes do, waiting as the budget says; returns the times of the takes. */
async function take(budget: FleetBudget, clock: FakeClock, n: number, maxMs = 60_000): Promise<number[]> {
  const times: number[] = [];
  const deadline = clock.now() + maxMs;
  while (times.length < n && clock.now() < deadline) {
    if (budget.tryTake()) {
      times.push(clock.now());
      budget.finished();
      continue;
    }
    await clock.advance(Math.max(1, budget.msUntilAvailable()));
  }
  return times;
}

describe('FleetBudget', () => {
  it('takes from a pool reserved in batches, not from the store for every unit', async () => {
    const clock = new FakeClock();
    const store = new MemoryWindow(clock, HOLD);
    const share = new AssignmentShare(1000, WINDOW, clock);
    share.assign(1, 3);
    const budget = budgetOn(store, clock, share);
    const times = await take(budget, clock, 600);
    expect(times).toHaveLength(600);
    expect(store.reserves).toBeLessThan(600 / 5);
    // Beyond its share: the store is shared, not split.
    expect(times.length).toBeGreaterThan(share.share);
  });

  it('lets replicas together take no more than the limit in any window, wherever the load is', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(fc.nat(60), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 40 }), async (rounds) => {
        const clock = new FakeClock();
        const store = new MemoryWindow(clock, HOLD);
        const limit = 200;
        const budgets = [0, 1, 2].map(() => {
          const share = new AssignmentShare(limit, WINDOW, clock);
          share.assign(1, 3);
          return budgetOn(store, clock, share, undefined, limit);
        });
        const sends: number[] = [];
        for (const demands of rounds) {
          budgets.forEach((budget, i) => {
            for (let k = 0; k < (demands[i] as number) && budget.tryTake(); k++) {
              // Target counts a request somewhere before its timeout (here: at most HOLD - pool TTL later).
              sends.push(clock.now() + ((k * 37) % 1000));
              budget.finished();
            }
          });
          await clock.advance(250);
        }
        return sends.every((t) => sends.filter((u) => u > t - WINDOW && u <= t).length <= limit);
      }),
      { numRuns: 40 },
    );
  });

  it('drops reserved units left unused, and a dead replica’s reservation frees within a window and its hold', async () => {
    const clock = new FakeClock();
    const store = new MemoryWindow(clock, HOLD);
    const share = new AssignmentShare(1000, WINDOW, clock);
    share.assign(1, 1);
    const dying = budgetOn(store, clock, share, undefined, 40);
    await take(dying, clock, 30);
    // It stops taking with units in its pool (or dies): they are gone for the others until they leave the window.
    const survivor = budgetOn(store, clock, share, undefined, 40);
    const start = clock.now();
    const times = await take(survivor, clock, 40);
    expect(times).toHaveLength(40);
    expect(Math.max(...times) - start).toBeLessThanOrEqual(WINDOW + HOLD + 1000);
    expect(store.used(WINDOW)).toBeLessThanOrEqual(40);
  });

  it('never uses a reserved unit after its pool time, so no request reaches Target after the store stopped counting it', async () => {
    const clock = new FakeClock();
    const store = new MemoryWindow(clock, HOLD);
    const share = new AssignmentShare(1000, WINDOW, clock);
    share.assign(1, 1);
    const budget = budgetOn(store, clock, share);
    await take(budget, clock, 200);
    expect(budget.remaining()).toBeGreaterThan(1000 - store.used(WINDOW));
    const reserves = store.reserves;
    await clock.advance(1001);
    expect(budget.tryTake()).toBe(false);
    await flushPromises();
    expect(store.reserves).toBe(reserves + 1);
  });

  it('reserves a large take all at once or not at all', async () => {
    const clock = new FakeClock();
    const store = new MemoryWindow(clock, HOLD);
    const share = new AssignmentShare(1000, WINDOW, clock);
    share.assign(1, 1);
    const rows = budgetOn(store, clock, share, undefined, 1000);
    expect(rows.tryTake(700)).toBe(false);
    await flushPromises();
    expect(rows.tryTake(700)).toBe(true);
    rows.finished(700);
    await flushPromises();
    // Under 300 left in the window: a 400-row batch gets nothing, and what is left stays for others.
    expect(rows.tryTake(400)).toBe(false);
    await flushPromises();
    expect(rows.tryTake(400)).toBe(false);
    await flushPromises();
    expect(store.entries.map((e) => e.units).filter((units) => units > 20)).toEqual([700]);
    expect(rows.msUntilAvailable(400)).toBeGreaterThan(WINDOW);
  });

  it('falls back to its share while the store is down, says so once, and records what it took when the store is back', async () => {
    const clock = new FakeClock();
    const store = new MemoryWindow(clock, HOLD);
    const share = new AssignmentShare(1000, WINDOW, clock);
    share.assign(1, 4);
    const events: string[] = [];
    const budget = budgetOn(store, clock, share, { fallback: (on, name) => events.push(`${name} ${on ? 'down' : 'up'}`) });
    await take(budget, clock, 100);
    const fleetBefore = store.used(WINDOW);
    store.down = true;
    const during = await take(budget, clock, 1000, 3 * WINDOW);
    expect(events).toEqual(['requests down']);
    // Never beyond its share of the account's quota in any window.
    expect(during.every((t) => during.filter((u) => u > t - WINDOW && u <= t).length <= share.share)).toBe(true);
    // In the first window, only its share of what the fleet had left (plus what was already in its pool, counted in the store).
    const firstWindow = during.filter((t) => t < during[0]! + WINDOW);
    expect(firstWindow.length).toBeLessThanOrEqual(Math.floor((share.share * (1000 - fleetBefore)) / 1000) + 20);
    store.down = false;
    const inStoreBefore = store.entries.reduce((sum, e) => sum + e.units, 0);
    await take(budget, clock, 1);
    await clock.advance(2000);
    expect(events).toEqual(['requests down', 'requests up']);
    const recorded = store.entries.reduce((sum, e) => sum + e.units, 0) - inStoreBefore;
    // Everything taken while it was down, but what came from its pool (reserved, so counted, before).
    expect(recorded).toBeGreaterThanOrEqual(during.length - 20);
  });

  it('gives a store that lost its window back the units it sent in it', async () => {
    const clock = new FakeClock();
    const store = new MemoryWindow(clock, HOLD);
    const share = new AssignmentShare(1000, WINDOW, clock);
    share.assign(1, 2);
    const budget = budgetOn(store, clock, share);
    const sent = await take(budget, clock, 300);
    store.reset();
    await take(budget, clock, 100);
    // The 300 sent before the reset count again (plus what was reserved since).
    expect(store.used(WINDOW)).toBeGreaterThanOrEqual(300 + 100);
    expect(sent).toHaveLength(300);
  });

  it('after a store outage that reset the window, records every unit it sent in the window', async () => {
    const clock = new FakeClock();
    const store = new MemoryWindow(clock, HOLD);
    const share = new AssignmentShare(1000, WINDOW, clock);
    share.assign(1, 2);
    const budget = budgetOn(store, clock, share);
    await take(budget, clock, 200);
    store.down = true;
    const during = await take(budget, clock, 50, 5000);
    store.reset();
    store.down = false;
    await clock.advance(1000);
    await take(budget, clock, 1);
    await flushPromises();
    expect(budget.fallingBack).toBe(false);
    expect(store.used(WINDOW)).toBeGreaterThanOrEqual(200 + during.length - 20);
  });

  it('tries the store again while idle, and keeps to its share for a grace period after, while the others record theirs', async () => {
    const clock = new FakeClock();
    const store = new MemoryWindow(clock, HOLD);
    const shares = [0, 1].map(() => {
      const share = new AssignmentShare(1000, WINDOW, clock);
      share.assign(1, 4);
      return share;
    });
    const events: string[] = [];
    let backAt = 0;
    const observer = (i: number) => ({
      fallback(on: boolean) {
        events.push(`${i} ${on ? 'down' : 'up'}`);
        if (!on) backAt = clock.now();
      },
    });
    const [a, b] = shares.map((share, i) => budgetOn(store, clock, share, observer(i))) as [FleetBudget, FleetBudget];
    store.down = true;
    // Both fall back and spend what their share allows.
    const spent = (await take(a, clock, 1000, 3000)).length + (await take(b, clock, 1000, 3000)).length;
    expect(events).toEqual(['0 down', '1 down']);
    store.down = false;
    // Neither takes anything: they find the store on their own.
    await clock.advance(1000);
    expect(events).toEqual(['0 down', '1 down', '0 up', '1 up']);
    // What they sent meanwhile is in the store (and each reserved a first batch again).
    expect(store.used(WINDOW)).toBeGreaterThanOrEqual(spent);
    expect(store.used(WINDOW)).toBeLessThanOrEqual(spent + 2 * 20);
    // The store has room, but for the grace period a replica still keeps to its share (250).
    const [ownShare] = shares as [AssignmentShare];
    const graceEnds = backAt + 1000 + HOLD;
    const duringGrace = (await take(a, clock, 400, graceEnds - clock.now())).filter((t) => t < graceEnds);
    expect(spent / 2 + duringGrace.length).toBeLessThanOrEqual(ownShare.share);
    const after = await take(a, clock, 400, 1000);
    expect(after).toHaveLength(400);
    a.stop();
    b.stop();
    expect(clock.pending).toBe(0);
  });
});
