/** The bulk route on fake time against a fake Bulk Profile Update API. */
import { sendRow } from './bulk-rows.js';
import { describe, expect, it } from 'vitest';
import { BulkRoute, type BulkApi, type BulkRouteOptions } from '../../../connector/core/delivery/bulk-route.js';
import { CircuitBreaker } from '../../../connector/core/delivery/circuit-breaker.js';
import { OutageGate } from '../../../connector/core/delivery/outage-gate.js';
import type { UpdateResult } from '../../../connector/core/delivery/send-result.js';
import { RollingQuota } from '../../../connector/core/delivery/rolling-quota.js';
import type { BulkStatusResult, BulkSubmitResult } from '../../../connector/core/delivery/send-result.js';
import { TargetError } from '../../../connector/core/errors.js';
import { RetryPolicy } from '../../../connector/core/retry.js';
import type { BatchFile } from '../../../connector/core/target-api/batch-file.js';
import type { RowStatus } from '../../../connector/core/target-api/batch-reply.js';
import { FakeClock } from '../../support/fake-clock.js';

/** A batch as the fake API received it: each row's attributes decoded. */
interface Received {
  id: string;
  rows: Map<string, Record<string, string>>;
  submittedAt: number;
}

function decodeFile(file: BatchFile): Map<string, Record<string, string>> {
  const [header, ...lines] = file.text.trimEnd().split('\n');
  const names = (header as string).slice('batch='.length).split(',').slice(1).map(decodeURIComponent);
  return new Map(
    lines.map((line) => {
      const [id, ...cells] = line.split(',').map(decodeURIComponent);
      return [id as string, Object.fromEntries(cells.flatMap((c, i) => (c === '' ? [] : [[names[i] as string, c]])))];
    }),
  );
}

/** Target on fake time: accepts batches (or fails them as told) and reports each row as `statusOf` says. */
function fakeApi(clock: FakeClock, statusOf: (id: string, batch: Received) => RowStatus = () => 'success') {
  const received: Received[] = [];
  let failSubmits: BulkSubmitResult[] = [];
  let statusCalls = 0;
  const api: BulkApi = {
    async submit(file) {
      const failure = failSubmits.shift();
      if (failure) return failure;
      received.push({ id: `b-${received.length + 1}`, rows: decodeFile(file), submittedAt: clock.now() });
      return { kind: 'accepted', statusUrl: `b-${received.length}` };
    },
    async status(url): Promise<BulkStatusResult> {
      statusCalls++;
      const batch = received.find((b) => b.id === url) as Received;
      return { kind: 'report', batchId: batch.id, rows: new Map([...batch.rows.keys()].map((id) => [id, statusOf(id, batch)])), unknown: [] };
    },
  };
  return { api, received, failNextSubmits: (r: BulkSubmitResult[]) => (failSubmits = r), statusCalls: () => statusCalls };
}

function route(clock: FakeClock, api: BulkApi, over: Partial<BulkRouteOptions> = {}): BulkRoute {
  return new BulkRoute({
    api,
    clock,
    maxRows: 1000,
    maxBytes: 1_000_000,
    lingerMs: 500,
    pollIntervalMs: 1000,
    statusTimeoutMs: 60_000,
    retry: new RetryPolicy({ initialMs: 100, maxMs: 5000, maxAttempts: 3, random: () => 0.5 }),
    gate: new OutageGate({
      breaker: new CircuitBreaker({ endpoint: 'bulk', threshold: 2, probePolicy: new RetryPolicy({ initialMs: 100, maxMs: 5000, random: () => 0.5 }), clock }),
      endpoint: 'the Target bulk API',
      clock,
    }),
    rememberProfiles: 100,
    ...over,
  });
}

const results = () => {
  const got = new Map<string, UpdateResult>();
  return { got, done: (id: string) => (r: UpdateResult) => got.set(id, r) };
};

describe('BulkRoute', () => {
  it('gathers rows into one batch until linger, and settles each row by its own status', async () => {
    const clock = new FakeClock();
    const target = fakeApi(clock, (id) => (id === 'c2' ? 'pending' : 'success'));
    const r = route(clock, target.api);
    const { got, done } = results();
    sendRow(r, 'c1', { tier: 'GOLD' }, done('c1'));
    sendRow(r, 'c2', { tier: 'SILVER', city: 'Malmö, Skåne & Co' }, done('c2'));
    await clock.advance(499);
    expect(target.received).toHaveLength(0);
    await clock.advance(1);
    expect(target.received).toHaveLength(1);
    expect([...(target.received[0]?.rows ?? [])]).toEqual([
      ['c1', { tier: 'GOLD' }],
      ['c2', { tier: 'SILVER', city: 'Malmö, Skåne & Co' }],
    ]);
    await clock.advance(1000);
    expect(got.get('c1')).toEqual({ status: 'delivered' });
    expect(got.has('c2')).toBe(false);
  });

  it("sends a later row with every attribute bulk sent the profile before, latest value winning (a later batch overrides an earlier one's)", async () => {
    const clock = new FakeClock();
    const target = fakeApi(clock);
    const r = route(clock, target.api);
    const { got, done } = results();
    sendRow(r, 'c1', { tier: 'GOLD', city: 'Lund' }, done('first'));
    await clock.until(() => got.has('first'));
    const third = { kind: 'mbox3rdPartyId' as const, value: 'c1' };
    sendRow(r, 'c1', r.rowFor(third, { tier: 'PLATINUM', email: 'a@b.se' })!, done('second'));
    await clock.until(() => got.has('second'));
    expect(target.received[1]?.rows.get('c1')).toEqual({ tier: 'PLATINUM', city: 'Lund', email: 'a@b.se' });
    // A single update (an mbox call) ends Target's override: the memory ends with it.
    r.forget('c1');
    sendRow(r, 'c1', r.rowFor(third, { tier: 'GOLD' })!, done('third'));
    await clock.until(() => got.has('third'));
    expect(target.received[2]?.rows.get('c1')).toEqual({ tier: 'GOLD' });
  });

  it('sends an error row again in a later batch, and fails it for good after max_attempts with the batch and its status', async () => {
    const clock = new FakeClock();
    const target = fakeApi(clock, (id) => (id === 'bad' ? 'error' : 'success'));
    const r = route(clock, target.api);
    const { got, done } = results();
    sendRow(r, 'bad', { tier: 'GOLD' }, done('bad'));
    sendRow(r, 'ok', { tier: 'GOLD' }, done('ok'));
    await clock.until(() => got.size === 2);
    expect(got.get('ok')).toEqual({ status: 'delivered' });
    expect(got.get('bad')).toMatchObject({ status: 'failed', attempts: 3, error: { code: 'BULK_ROW_FAILED', batchId: 'b-3', rowStatus: 'error' } });
    expect(target.received.map((b) => [...b.rows.keys()])).toEqual([['bad', 'ok'], ['bad'], ['bad']]);
  });

  it('sends a row again when it stays pending past status_timeout_ms', async () => {
    const clock = new FakeClock();
    // Target never gets round to the first batch; the second one goes through.
    const target = fakeApi(clock, (_id, batch) => (batch.id === 'b-1' ? 'pending' : 'success'));
    const r = route(clock, target.api, { statusTimeoutMs: 10_000 });
    const { got, done } = results();
    sendRow(r, 'slow', { tier: 'GOLD' }, done('slow'));
    await clock.advance(10_000);
    expect(got.size).toBe(0);
    await clock.until(() => got.size === 1);
    expect(got.get('slow')).toEqual({ status: 'delivered' });
    expect(target.received).toHaveLength(2);
  });

  it("waits out a failing endpoint without spending the rows' attempts, blocked while its breaker is open", async () => {
    const clock = new FakeClock();
    const target = fakeApi(clock);
    const r = route(clock, target.api);
    let blockedChanges = 0;
    r.gate.onChange(() => blockedChanges++);
    const unavailable: BulkSubmitResult = { kind: 'retryable', error: new TargetError('503', true, { status: 503 }) };
    target.failNextSubmits(Array.from({ length: 20 }, () => unavailable));
    const { got, done } = results();
    sendRow(r, 'c1', { tier: 'GOLD' }, done('c1'));
    await clock.advance(30_000);
    expect(r.blocked).toBe(true);
    expect(got.size).toBe(0);
    await clock.until(() => got.size === 1);
    expect(got.get('c1')).toEqual({ status: 'delivered' });
    expect(r.blocked).toBe(false);
    expect(blockedChanges).toBe(2);
  });

  it('tells the age of its oldest unreported batch, growing while the status endpoint fails', async () => {
    const clock = new FakeClock();
    const target = fakeApi(clock, () => 'pending');
    const statusDown = {
      ...target.api,
      status: async (): Promise<BulkStatusResult> => ({ kind: 'retryable', error: new TargetError('HTTP 503', true, { status: 503 }) }),
    };
    const r = route(clock, statusDown);
    const { done } = results();
    expect(r.oldestPendingMs()).toBe(0);
    sendRow(r, 'c1', { tier: 'GOLD' }, done('c1'));
    await clock.advance(500);
    expect(target.received).toHaveLength(1);
    await clock.advance(20_000);
    expect(r.oldestPendingMs()).toBe(20_000);
  });

  it('counts a refused batch as an attempt of each of its rows', async () => {
    const clock = new FakeClock();
    const target = fakeApi(clock);
    const refused: BulkSubmitResult = { kind: 'permanent', error: new TargetError('Target refused the batch: bad header', false) };
    target.failNextSubmits([refused, refused, refused]);
    const r = route(clock, target.api);
    const { got, done } = results();
    sendRow(r, 'c1', { tier: 'GOLD' }, done('c1'));
    await clock.until(() => got.size === 1);
    expect(got.get('c1')).toMatchObject({ status: 'failed', attempts: 3, error: { rowStatus: 'refused' } });
  });

  it('splits batches at max_rows and sends a full batch at once, without waiting for linger', async () => {
    const clock = new FakeClock();
    const target = fakeApi(clock);
    const r = route(clock, target.api, { maxRows: 2, lingerMs: 60_000 });
    const { done } = results();
    for (const id of ['a', 'b', 'c']) sendRow(r, id, { n: id }, done(id));
    await clock.advance(0);
    expect(target.received.map((b) => [...b.rows.keys()])).toEqual([['a', 'b']]);
    r.flush();
    await clock.advance(0);
    expect(target.received.map((b) => [...b.rows.keys()])).toEqual([['a', 'b'], ['c']]);
  });

  it('splits batches by size: a row that would push the file past max_bytes starts the next one', async () => {
    const clock = new FakeClock();
    const target = fakeApi(clock);
    const r = route(clock, target.api, { maxBytes: 200, lingerMs: 10 });
    const { done } = results();
    for (const id of ['a', 'b', 'c']) sendRow(r, id, { note: id.repeat(60) }, done(id));
    await clock.advance(10);
    expect(target.received.map((b) => [...b.rows.keys()])).toEqual([['a', 'b'], ['c']]);
  });

  it('keeps to the row quota: a batch waits until the window has room for its rows', async () => {
    const clock = new FakeClock();
    const target = fakeApi(clock);
    const r = route(clock, target.api, { lingerMs: 10, maxRows: 2, rowQuota: new RollingQuota(2, 60_000, () => clock.now()) });
    const { got, done } = results();
    for (const id of ['a', 'b']) sendRow(r, id, { n: id }, done(id));
    await clock.until(() => got.size === 2);
    sendRow(r, 'c', { n: 'c' }, done('c'));
    await clock.advance(30_000);
    expect(target.received).toHaveLength(1);
    await clock.until(() => got.size === 3);
    expect((target.received[1]?.submittedAt ?? 0) - (target.received[0]?.submittedAt ?? 0)).toBeGreaterThanOrEqual(60_000);
  });

  it('takes thirdPartyId profiles it can remember and whose row fits, and nothing else', async () => {
    const clock = new FakeClock();
    const target = fakeApi(clock);
    const r = route(clock, target.api, { rememberProfiles: 1, maxBytes: 300 });
    const third = (value: string) => ({ kind: 'mbox3rdPartyId' as const, value });
    expect(r.rowFor({ kind: 'mboxPC', value: 'pc' }, { a: '1' })).toBeUndefined();
    expect(r.rowFor(third('a/b'), { a: '1' })).toBeUndefined();
    expect(r.rowFor(third('big'), { a: 'x'.repeat(400) })).toBeUndefined();
    expect(r.rowFor(third('c1'), { a: '1' })).toEqual({ a: '1' });
    const { got, done } = results();
    sendRow(r, 'c1', { a: '1' }, done('c1'));
    await clock.until(() => got.size === 1);
    // One profile remembered: the bound is reached, a new profile goes by single updates; c1 still by bulk.
    expect(r.rowFor(third('c2'), { a: '1' })).toBeUndefined();
    expect(r.rowFor(third('c1'), { b: '2' })).toEqual({ a: '1', b: '2' });
  });
});
