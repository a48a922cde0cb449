/**
 * Fake time for the delivery core's tests: timers run only when the test advances the clock,
 * in due order, with pending promises settled between them. No test waits on the wall clock.
 */
import type { Clock } from '../../connector/core/clock.js';

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/** Lets every promise callback and I/O-free continuation queued so far run. */
export async function flushPromises(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export class FakeClock implements Clock {
  private time = Date.UTC(2026, 10, 29);
  private seq = 0;
  private readonly timers: FakeTimer[] = [];

  now(): number {
    return this.time;
  }

  schedule(ms: number, fn: () => void): () => void {
    const timer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      const i = this.timers.indexOf(timer);
      if (i >= 0) this.timers.splice(i, 1);
    };
  }

  /** Timers not yet run. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, running each timer due on the way at its own time. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await flushPromises();
      const next = this.earliest();
      if (!next || next.at > end) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.time = Math.max(this.time, next.at);
      next.fn();
    }
    this.time = end;
    await flushPromises();
  }

  /** Runs timers in order until `done()` holds; throws when nothing is left to run or `maxMs` of fake time passed. */
  async until(done: () => boolean, maxMs = 3600_000): Promise<void> {
    const deadline = this.time + maxMs;
    await flushPromises();
    while (!done()) {
      const next = this.earliest();
      if (!next) throw new Error('FakeClock.until: no timer left and the condition does not hold');
      if (next.at > deadline) throw new Error(`FakeClock.until: condition still false after ${maxMs} ms of fake time`);
      await this.advance(next.at - this.time);
    }
  }

  private earliest(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers) if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    return best;
  }
}
