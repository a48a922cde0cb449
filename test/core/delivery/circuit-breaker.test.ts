import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../../connector/core/delivery/circuit-breaker.js';
import { TargetError } from '../../../connector/core/errors.js';
import { RetryPolicy } from '../../../connector/core/retry.js';
import { FakeClock } from '../../support/fake-clock.js';

function breaker(clock: FakeClock, events: string[] = []) {
  return new CircuitBreaker({
    endpoint: 'Target',
    threshold: 3,
    probePolicy: new RetryPolicy({ initialMs: 1000, maxMs: 8000, random: () => 0.5 }),
    clock,
    observer: {
      opened: ({ nextProbeInMs }) => events.push(`opened next=${nextProbeInMs}`),
      probeFailed: ({ nextProbeInMs, openForMs }) => events.push(`probeFailed next=${nextProbeInMs} open=${openForMs}`),
      closed: ({ openForMs }) => events.push(`closed after=${openForMs}`),
    },
  });
}

const down = new TargetError('503', true, { status: 503 });

describe('CircuitBreaker', () => {
  it('opens only after threshold consecutive failures; a success in between resets the count', () => {
    const clock = new FakeClock();
    const b = breaker(clock);
    b.recordFailure(down);
    b.recordFailure(down);
    b.recordSuccess();
    b.recordFailure(down);
    b.recordFailure(down);
    expect(b.isOpen).toBe(false);
    b.recordFailure(down);
    expect(b.isOpen).toBe(true);
  });

  it('hands out one probe at a time, spaced by the policy and any Retry-After, and closes on success', async () => {
    const clock = new FakeClock();
    const events: string[] = [];
    const b = breaker(clock, events);
    for (let i = 0; i < 3; i++) b.recordFailure(down);
    expect(b.probeDueInMs()).toBe(500);
    expect(b.startProbe()).toBe(false);
    await clock.advance(500);
    expect(b.startProbe()).toBe(true);
    expect(b.startProbe()).toBe(false);
    expect(b.probeDueInMs()).toBeUndefined();
    // A failure of a request sent before the breaker opened changes nothing.
    b.recordFailure(down);
    expect(b.probeDueInMs()).toBeUndefined();
    b.recordFailure(new TargetError('429', true, { status: 429 }), true, 30_000);
    expect(b.probeDueInMs()).toBe(30_000);
    await clock.advance(30_000);
    expect(b.startProbe()).toBe(true);
    b.recordFailure(down, true);
    expect(b.probeDueInMs()).toBe(2000);
    await clock.advance(2000);
    b.startProbe();
    b.recordSuccess();
    expect(b.isOpen).toBe(false);
    expect(events).toEqual(['opened next=500', 'probeFailed next=30000 open=500', 'probeFailed next=2000 open=30500', 'closed after=32500']);
  });

  it('counts successes, so a request can tell whether Target served others since it failed', () => {
    const b = breaker(new FakeClock());
    const mark = b.successes;
    b.recordSuccess();
    expect(b.successes).toBeGreaterThan(mark);
  });

  it('gives a withdrawn probe slot back', async () => {
    const clock = new FakeClock();
    const b = breaker(clock);
    for (let i = 0; i < 3; i++) b.recordFailure(down);
    await clock.advance(500);
    expect(b.startProbe()).toBe(true);
    b.cancelProbe();
    expect(b.startProbe()).toBe(true);
  });
});
