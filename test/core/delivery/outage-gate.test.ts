/** One outage gate per endpoint: open, hold, probe one at a time, close; and the outage budget, for the single and the bulk route alike. */
import { sendRow } from './bulk-rows.js';
import { settling } from '../../support/settling.js';
import { describe, expect, it } from 'vitest';
import { BulkRoute, type BulkApi } from '../../../connector/core/delivery/bulk-route.js';
import { CircuitBreaker } from '../../../connector/core/delivery/circuit-breaker.js';
import { OutageGate, type GateResume } from '../../../connector/core/delivery/outage-gate.js';
import { RollingQuota } from '../../../connector/core/delivery/rolling-quota.js';
import type { SendResult, UpdateResult } from '../../../connector/core/delivery/send-result.js';
import { TargetError, type OutageBudgetError } from '../../../connector/core/errors.js';
import { RetryPolicy } from '../../../connector/core/retry.js';
import { FakeClock } from '../../support/fake-clock.js';
import { lanesOf } from './lanes-of.js';

const random = () => 0.5;
const down = () => new TargetError('HTTP 503', true, { status: 503 });

function gateOn(clock: FakeClock, outageBudgetMs?: number) {
  const events: string[] = [];
  const breaker = new CircuitBreaker({
    endpoint: 'Target',
    threshold: 2,
    probePolicy: new RetryPolicy({ initialMs: 1000, maxMs: 8000, random }),
    clock,
    observer: { opened: () => events.push('opened'), probeFailed: () => events.push('probe failed'), closed: () => events.push('closed') },
  });
  const gate = new OutageGate({ breaker, endpoint: 'Target', outageBudgetMs, clock });
  const exhausted: OutageBudgetError[] = [];
  gate.onBudgetExhausted((e) => exhausted.push(e));
  gate.onChange(() => events.push(gate.isOpen ? 'blocked' : 'unblocked'));
  return { gate, events, exhausted };
}

describe('OutageGate', () => {
  it('opens after consecutive failures, lets one held sender probe at a time (after Retry-After), and resumes every held sender when it closes', async () => {
    const clock = new FakeClock();
    const { gate, events, exhausted } = gateOn(clock);
    const resumed: Array<[string, GateResume, number]> = [];
    const start = clock.now();
    const hold = (name: string) => gate.hold((why) => resumed.push([name, why, clock.now() - start]));
    gate.recordFailure(down(), false);
    expect(gate.isOpen).toBe(false);
    gate.recordFailure(down(), false, 5000);
    expect(gate.isOpen).toBe(true);
    hold('a');
    hold('b');
    hold('c');
    // The first probe waits for the endpoint's Retry-After, and only one goes out.
    await clock.advance(4999);
    expect(resumed).toEqual([]);
    await clock.advance(1);
    expect(resumed).toEqual([['a', 'probe', 5000]]);
    await clock.advance(60_000);
    expect(resumed).toHaveLength(1);
    // The probe fails: the next probe is another sender, spaced by the probe policy.
    gate.recordFailure(down(), true);
    hold('a');
    await clock.until(() => resumed.length === 2);
    expect(resumed[1]?.slice(0, 2)).toEqual(['b', 'probe']);
    gate.recordSuccess();
    expect(resumed.slice(2)).toEqual([
      ['c', 'closed', clock.now() - start],
      ['a', 'closed', clock.now() - start],
    ]);
    expect(gate.isOpen).toBe(false);
    expect(events).toEqual(['opened', 'blocked', 'probe failed', 'closed', 'unblocked']);
    expect(exhausted).toEqual([]);
  });

  it('reports its outage budget spent once, waking what sleeps on it; a closing before the budget reports nothing', async () => {
    const clock = new FakeClock();
    const { gate, exhausted } = gateOn(clock, 60_000);
    gate.recordFailure(down(), false);
    gate.recordFailure(down(), false);
    await clock.advance(30_000);
    gate.recordSuccess();
    await clock.advance(60_000);
    expect(exhausted).toEqual([]);

    gate.recordFailure(down(), false);
    gate.recordFailure(down(), false);
    let woke = false;
    void gate.sleep(3_600_000).then(() => (woke = true));
    await clock.advance(59_999);
    expect(exhausted).toEqual([]);
    expect(woke).toBe(false);
    await clock.advance(1);
    expect(exhausted.map((e) => e.code)).toEqual(['OUTAGE_BUDGET_EXHAUSTED']);
    expect(exhausted[0]?.message).toContain('Target has been unreachable for longer than the outage budget (delivery.outage_budget_ms: 60000)');
    expect(woke).toBe(true);
    await clock.advance(600_000);
    expect(exhausted).toHaveLength(1);
    expect(gate.budgetExhausted).toBe(true);
  });

  it('spends no budget after a stop, and releases what it holds as cancelled', async () => {
    const clock = new FakeClock();
    const { gate, exhausted } = gateOn(clock, 60_000);
    gate.recordFailure(down(), false);
    gate.recordFailure(down(), false);
    const why: GateResume[] = [];
    gate.hold((w) => why.push(w));
    gate.stop();
    expect(why).toEqual(['cancelled']);
    await clock.advance(600_000);
    expect(exhausted).toEqual([]);
  });
});

describe('the outage budget, single and bulk through the same gate', () => {
  const unavailable = (): SendResult => ({ kind: 'retryable', error: down() });

  it('bounds an outage of the single-update endpoint: reported once past the budget, nothing settled', async () => {
    const clock = new FakeClock();
    const exhausted: OutageBudgetError[] = [];
    const settled: UpdateResult[] = [];
    const lanes = lanesOf({
      concurrency: 4,
      retry: new RetryPolicy({ initialMs: 100, maxMs: 5000, maxAttempts: 3, random }),
      breaker: new CircuitBreaker({ endpoint: 'Target', threshold: 2, probePolicy: new RetryPolicy({ initialMs: 1000, maxMs: 8000, random }), clock }),
      outageBudgetMs: 60_000,
      outageBudgetExhausted: (e) => exhausted.push(e),
      quota: new RollingQuota(1_000_000, 86_400_000, () => clock.now()),
      clock,
      buildRequests: (u) => [{ method: 'GET', url: `https://t.example/u?id=${u.identity.value}` }],
      send: () => new Promise((resolve) => clock.schedule(5, () => resolve(unavailable()))),
    });
    for (let i = 0; i < 5; i++)
      lanes.submit(
        { identity: { kind: 'mbox3rdPartyId', value: `p${i}` }, attributes: { a: '1' } },
        settling((r) => settled.push(r)),
      );
    await clock.until(() => exhausted.length > 0);
    expect(exhausted[0]?.code).toBe('OUTAGE_BUDGET_EXHAUSTED');
    expect(settled).toEqual([]);
    expect(lanes.blocked).toBe(true);
    lanes.stop();
  });

  it('bounds an outage of the bulk endpoint the same way: submits held at the gate, one probe at a time, no row spends an attempt', async () => {
    const clock = new FakeClock();
    const { gate, exhausted, events } = gateOn(clock, 60_000);
    let submits = 0;
    let inFlight = 0;
    let maxInFlightWhileOpen = 0;
    const api: BulkApi = {
      submit: () =>
        new Promise((resolve) => {
          submits++;
          inFlight++;
          if (gate.isOpen) maxInFlightWhileOpen = Math.max(maxInFlightWhileOpen, inFlight);
          clock.schedule(5, () => {
            inFlight--;
            resolve({ kind: 'retryable', error: down() });
          });
        }),
      status: () => Promise.reject(new Error('no batch is ever accepted')),
    };
    const route = new BulkRoute({
      api,
      clock,
      maxRows: 1,
      maxBytes: 1_000_000,
      lingerMs: 10,
      pollIntervalMs: 1000,
      statusTimeoutMs: 60_000,
      retry: new RetryPolicy({ initialMs: 100, maxMs: 5000, maxAttempts: 2, random }),
      gate,
      rememberProfiles: 100,
    });
    const settled: UpdateResult[] = [];
    // One row a batch: three batches wait on the same endpoint.
    for (const id of ['c1', 'c2', 'c3']) sendRow(route, id, { tier: 'GOLD' }, (r) => settled.push(r));
    await clock.until(() => exhausted.length > 0);
    expect(exhausted[0]?.message).toContain('Target has been unreachable');
    expect(route.blocked).toBe(true);
    expect(events.slice(0, 2)).toEqual(['opened', 'blocked']);
    // While open, the held batches probed one at a time.
    expect(submits).toBeGreaterThan(3);
    expect(maxInFlightWhileOpen).toBe(1);
    expect(settled).toEqual([]);
    route.stop();
  });
});
