import { describe, expect, it } from 'vitest';
import { ConnectorError, DecodeError, RegistryUnavailableError, TargetError } from '../../connector/core/errors.js';
import { retrying, RetryPolicy } from '../../connector/core/retry.js';
import { FakeClock } from '../support/fake-clock.js';

describe('RetryPolicy', () => {
  it('grows exponentially with full jitter, is capped, and honours Retry-After as a floor', () => {
    const top = new RetryPolicy({ initialMs: 100, maxMs: 1000, random: () => 0.999 });
    expect(top.delay(1)).toBe(99);
    expect(top.delay(3)).toBe(399);
    expect(top.delay(10)).toBe(999);
    expect(new RetryPolicy({ initialMs: 100, maxMs: 1000, random: () => 0 }).delay(1)).toBe(0);
    const half = new RetryPolicy({ initialMs: 100, maxMs: 1000, random: () => 0.5 });
    expect(half.delay(1, 5000)).toBe(5000);
    expect(half.delay(4, 1)).toBe(400);
  });

  it('retries only what the error calls retryable, up to max attempts', () => {
    const policy = new RetryPolicy({ initialMs: 1, maxMs: 1, maxAttempts: 3, random: () => 0.5 });
    expect(policy.canRetry(new TargetError('503', true), 1)).toBe(true);
    expect(policy.canRetry(new TargetError('503', true), 3)).toBe(false);
    expect(policy.canRetry(new TargetError('400', false), 1)).toBe(false);
    expect(policy.canRetry(new DecodeError({ topic: 't' }, 'bad'), 1)).toBe(false);
    expect(policy.canRetry(new Error('not one of ours'), 1)).toBe(false);
    expect(new RetryPolicy({ initialMs: 1, maxMs: 1, random: () => 0.5 }).canRetry(new RegistryUnavailableError('down'), 10_000)).toBe(true);
  });
});

describe('retrying', () => {
  it('tries again after the policy delay until the work succeeds', async () => {
    const clock = new FakeClock();
    const delays: number[] = [];
    let calls = 0;
    const result = retrying(
      async () => {
        calls++;
        if (calls < 3) throw new RegistryUnavailableError('down');
        return 'ok';
      },
      new RetryPolicy({ initialMs: 100, maxMs: 1000, random: () => 0.5 }),
      clock,
      { onRetry: (_e, _a, ms) => delays.push(ms) },
    );
    await clock.advance(1000);
    await expect(result).resolves.toBe('ok');
    expect(delays).toEqual([50, 100]);
  });

  it('rejects at once with a permanent error, and after max attempts with a retryable one', async () => {
    const clock = new FakeClock();
    const permanent = new ConnectorError('TARGET_REJECTED', 'no', false);
    await expect(retrying(() => Promise.reject(permanent), new RetryPolicy({ initialMs: 1, maxMs: 1, random: () => 0.5 }), clock)).rejects.toBe(permanent);
    let calls = 0;
    const bounded = retrying(
      () => {
        calls++;
        return Promise.reject(new RegistryUnavailableError('down'));
      },
      new RetryPolicy({ initialMs: 10, maxMs: 10, maxAttempts: 3, random: () => 0.5 }),
      clock,
    );
    bounded.catch(() => {});
    await clock.advance(1000);
    await expect(bounded).rejects.toThrow('down');
    expect(calls).toBe(3);
  });

  it('stops waiting when aborted and rejects with the last error', async () => {
    const clock = new FakeClock();
    const abort = new AbortController();
    const run = retrying(
      () => Promise.reject(new RegistryUnavailableError('down')),
      new RetryPolicy({ initialMs: 60_000, maxMs: 60_000, random: () => 1 }),
      clock,
      {
        signal: abort.signal,
      },
    );
    run.catch(() => {});
    await clock.advance(10);
    abort.abort();
    await expect(run).rejects.toThrow('down');
  });
});
