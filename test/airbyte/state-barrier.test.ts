import { describe, expect, it } from 'vitest';
import { StateBarrier } from '../../connector/airbyte/state-barrier.js';

describe('StateBarrier', () => {
  it('releases a STATE at once when no record is in flight', () => {
    const barrier = new StateBarrier<string>();
    expect(barrier.stateReceived('s1')).toEqual(['s1']);
  });

  it('holds a STATE until every record before it settled, whatever order they settle in', () => {
    const barrier = new StateBarrier<string>();
    const a = barrier.recordStarted();
    const b = barrier.recordStarted();
    expect(barrier.stateReceived('s1')).toEqual([]);
    expect(barrier.recordSettled(b)).toEqual([]);
    expect(barrier.recordSettled(a)).toEqual(['s1']);
    expect(barrier.inFlight).toBe(0);
  });

  it('does not wait for records read after the STATE', () => {
    const barrier = new StateBarrier<string>();
    const before = barrier.recordStarted();
    barrier.stateReceived('s1');
    const after = barrier.recordStarted();
    expect(barrier.recordSettled(before)).toEqual(['s1']);
    expect(barrier.inFlight).toBe(1);
    expect(barrier.recordSettled(after)).toEqual([]);
  });

  it('keeps STATEs in input order even when a later one is ready first', () => {
    const barrier = new StateBarrier<string>();
    const first = barrier.recordStarted();
    barrier.stateReceived('s1');
    const second = barrier.recordStarted();
    barrier.stateReceived('s2');
    barrier.stateReceived('s3');
    // s2's own record is done, but s1's is not: nothing may leave yet.
    expect(barrier.recordSettled(second)).toEqual([]);
    expect(barrier.recordSettled(first)).toEqual(['s1', 's2', 's3']);
  });

  it('counts records in flight for backpressure', () => {
    const barrier = new StateBarrier<string>();
    const seqs = [barrier.recordStarted(), barrier.recordStarted(), barrier.recordStarted()];
    expect(barrier.inFlight).toBe(3);
    barrier.recordSettled(seqs[1] as number);
    expect(barrier.inFlight).toBe(2);
  });
});
