/** The bulk route within Target's call limit (submits and status polls per minute), on fake time. */
import { sendRow } from './bulk-rows.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssignmentShare } from '../../../connector/core/delivery/assignment-share.js';
import type { Budget } from '../../../connector/core/delivery/budget.js';
import { BulkRoute, POLL_BACKOFF_CAP_MS, type BulkApi, type BulkRouteOptions } from '../../../connector/core/delivery/bulk-route.js';
import { CircuitBreaker } from '../../../connector/core/delivery/circuit-breaker.js';
import { OutageGate } from '../../../connector/core/delivery/outage-gate.js';
import { RollingQuota } from '../../../connector/core/delivery/rolling-quota.js';
import { failureOf, type BulkStatusResult, type UpdateResult } from '../../../connector/core/delivery/send-result.js';
import { TargetError } from '../../../connector/core/errors.js';
import { RetryPolicy } from '../../../connector/core/retry.js';
import { BULK_CALL_WINDOW_MS, MAX_BULK_CALLS_PER_MINUTE } from '../../../connector/core/target-api/limits.js';
import { FakeClock } from '../../support/fake-clock.js';

interface Call {
  kind: 'submit' | 'status';
  at: number;
  url?: string;
}

/** Target on fake time taking `processingMs` per batch; every call (submit or status) is recorded, and `refuse` answers it 503 instead. */
function fakeTarget(clock: FakeClock, processingMs: number, calls: Call[] = [], refuse: (call: Call) => boolean = () => false) {
  const batches = new Map<string, { ids: string[]; acceptedAt: number }>();
  let next = 0;
  const limitReply = () => failureOf(new TargetError('Target answered 503: too many requests', true, { status: 503, retryAfterMs: 10_000 }));
  const api: BulkApi = {
    async submit(file) {
      const call: Call = { kind: 'submit', at: clock.now() };
      calls.push(call);
      if (refuse(call)) return limitReply();
      const url = `batch-${++next}`;
      batches.set(url, { ids: [...file.ids], acceptedAt: clock.now() });
      return { kind: 'accepted', statusUrl: url };
    },
    async status(url): Promise<BulkStatusResult> {
      const call: Call = { kind: 'status', at: clock.now(), url };
      calls.push(call);
      if (refuse(call)) return limitReply();
      const batch = batches.get(url)!;
      const status = clock.now() - batch.acceptedAt >= processingMs ? 'success' : 'pending';
      return { kind: 'report', batchId: url, rows: new Map(batch.ids.map((id) => [id, status])), unknown: [] };
    },
  };
  return { api, calls };
}

function route(clock: FakeClock, api: BulkApi, over: Partial<BulkRouteOptions> = {}): BulkRoute {
  return new BulkRoute({
    api,
    clock,
    maxRows: 10,
    maxBytes: 1_000_000,
    lingerMs: 500,
    pollIntervalMs: 2000,
    statusTimeoutMs: 24 * 3600_000,
    retry: new RetryPolicy({ initialMs: 100, maxMs: 5000, maxAttempts: 3, random: () => 0.5 }),
    gate: new OutageGate({
      breaker: new CircuitBreaker({ endpoint: 'bulk', threshold: 2, probePolicy: new RetryPolicy({ initialMs: 100, maxMs: 5000, random: () => 0.5 }), clock }),
      endpoint: 'the Target bulk API',
      clock,
    }),
    rememberProfiles: 10_000,
    ...over,
  });
}

/** The most calls in any window of a minute. */
function busiestMinute(calls: Call[]): number {
  const times = calls.map((c) => c.at).sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while ((times[i] as number) - (times[j] as number) >= BULK_CALL_WINDOW_MS) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

/** Queues `rows` profiles c0…, and returns what each row settled to. */
function backlog(r: BulkRoute, rows: number, prefix = 'c'): Map<string, UpdateResult> {
  const got = new Map<string, UpdateResult>();
  for (let i = 0; i < rows; i++) sendRow(r, `${prefix}${i}`, { tier: 'GOLD' }, (result) => got.set(`${prefix}${i}`, result));
  r.flush();
  return got;
}

const callBudget = (clock: FakeClock, limit: number | (() => number) = MAX_BULK_CALLS_PER_MINUTE): Budget =>
  new RollingQuota(limit, BULK_CALL_WINDOW_MS, () => clock.now(), 'bulk calls');

describe('BulkRoute within the call limit', () => {
  it('never makes more than calls_per_minute submits and polls in any minute over a long backlog with many pending batches', async () => {
    const clock = new FakeClock();
    const target = fakeTarget(clock, 10 * 60_000);
    const r = route(clock, target.api, { calls: callBudget(clock) });
    const got = backlog(r, 400);
    await clock.until(() => got.size === 400, 6 * 3600_000);
    r.stop();
    expect([...got.values()].every((x) => x.status === 'delivered')).toBe(true);
    expect(target.calls.filter((c) => c.kind === 'submit')).toHaveLength(40);
    // The budget was the bound: the backlog wanted more calls than that in its first minutes.
    expect(busiestMinute(target.calls)).toBe(MAX_BULK_CALLS_PER_MINUTE);
  });

  it('goes over the limit without a call budget (the test above can fail)', async () => {
    const clock = new FakeClock();
    const target = fakeTarget(clock, 10 * 60_000);
    const r = route(clock, target.api);
    const got = backlog(r, 400);
    await clock.until(() => got.size === 400, 6 * 3600_000);
    r.stop();
    expect(busiestMinute(target.calls)).toBeGreaterThan(MAX_BULK_CALLS_PER_MINUTE);
  });

  it('polls a pending batch after the poll interval, then twice as long each time, never more than a minute apart', async () => {
    const clock = new FakeClock();
    const target = fakeTarget(clock, 5 * 60_000);
    const r = route(clock, target.api, { calls: callBudget(clock) });
    const got = backlog(r, 3);
    await clock.until(() => got.size === 3);
    r.stop();
    const [submit, ...polls] = target.calls;
    const times = [submit!.at, ...polls.map((p) => p.at)];
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(gaps).toEqual([2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
    expect(POLL_BACKOFF_CAP_MS).toBe(60_000);
  });

  it('keeps two replicas with local assignment shares within the limit together, whatever the backlogs and rebalances', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 12, maxLength: 12 }),
        fc.array(fc.integer({ min: 0, max: 1 }), { minLength: 12, maxLength: 12 }),
        fc.integer({ min: 0, max: 10 * 60_000 }),
        fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 })),
        fc.integer({ min: 0, max: 15 * 60_000 }),
        async (firstOwners, laterOwners, rebalanceAt, rows, processingMs) => {
          const clock = new FakeClock();
          const calls: Call[] = [];
          const replicas = [0, 1].map((m) => {
            const share = new AssignmentShare(MAX_BULK_CALLS_PER_MINUTE, BULK_CALL_WINDOW_MS, clock);
            const r = route(clock, fakeTarget(clock, processingMs, calls).api, { calls: callBudget(clock, () => share.limit()) });
            return { share, r, got: backlog(r, rows[m] as number, `m${m}-`) };
          });
          const assign = (owners: number[]) => replicas.forEach(({ share }, m) => share.assign(owners.filter((o) => o === m).length, owners.length));
          assign(firstOwners);
          clock.schedule(rebalanceAt, () => assign(laterOwners));
          await clock.advance(3 * 3600_000);
          for (const { r } of replicas) r.stop();
          return busiestMinute(calls) <= MAX_BULK_CALLS_PER_MINUTE;
        },
      ),
      { numRuns: 25 },
    );
  });

  it("waits out Target's 503 for the limit on submits and polls through the outage gate: no row is dead-lettered", async () => {
    const clock = new FakeClock();
    let refusals = 0;
    // Every call in the first two minutes is refused, as Target does past its limit.
    const target = fakeTarget(clock, 60_000, [], (call) => {
      const refused = call.at - start < 120_000;
      if (refused) refusals++;
      return refused;
    });
    const start = clock.now();
    const r = route(clock, target.api, {
      calls: callBudget(clock),
      retry: new RetryPolicy({ initialMs: 100, maxMs: 5000, maxAttempts: 1, random: () => 0.5 }),
    });
    const opened: boolean[] = [];
    r.gate.onChange(() => opened.push(r.gate.isOpen));
    const got = backlog(r, 25);
    await clock.until(() => got.size === 25);
    r.stop();
    expect(refusals).toBeGreaterThan(2);
    expect(opened).toContain(true);
    expect([...got.values()].every((x) => x.status === 'delivered')).toBe(true);
  });
});
