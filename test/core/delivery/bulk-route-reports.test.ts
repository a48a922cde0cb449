/** What the bulk route tells its observer while Target processes a batch: the rows still pending and when it asks next. */
import { sendRow } from './bulk-rows.js';
import { describe, expect, it } from 'vitest';
import { BulkRoute, type BulkApi, type BulkBatchReport } from '../../../connector/core/delivery/bulk-route.js';
import { CircuitBreaker } from '../../../connector/core/delivery/circuit-breaker.js';
import { OutageGate } from '../../../connector/core/delivery/outage-gate.js';
import type { BulkStatusResult } from '../../../connector/core/delivery/send-result.js';
import { TargetError } from '../../../connector/core/errors.js';
import { RetryPolicy } from '../../../connector/core/retry.js';
import type { RowStatus } from '../../../connector/core/target-api/batch-reply.js';
import { FakeClock } from '../../support/fake-clock.js';

/** Target answering each status poll from the next entry of `polls` (row id → status); a `retryable` entry fails the poll. */
function scriptedApi(polls: Array<Record<string, RowStatus> | 'retryable'>): BulkApi {
  return {
    async submit() {
      return { kind: 'accepted', statusUrl: 'b-1' };
    },
    async status(): Promise<BulkStatusResult> {
      const next = polls.shift() ?? {};
      if (next === 'retryable') return { kind: 'retryable', error: new TargetError('status endpoint down', true, { status: 503 }) };
      return { kind: 'report', batchId: 'b-1', rows: new Map(Object.entries(next)), unknown: [] };
    },
  };
}

const RETRY = new RetryPolicy({ initialMs: 300, maxMs: 300, maxAttempts: 1, random: () => 0.5 });

/** A route over the scripted API whose observer records every report and deferral. */
function observedRoute(clock: FakeClock, api: BulkApi) {
  const heard: Array<[BulkBatchReport, number | undefined] | ['deferred', string, number]> = [];
  const route = new BulkRoute({
    api,
    clock,
    maxRows: 1000,
    maxBytes: 1_000_000,
    lingerMs: 500,
    pollIntervalMs: 1000,
    statusTimeoutMs: 3600_000,
    retry: RETRY,
    gate: new OutageGate({
      breaker: new CircuitBreaker({ endpoint: 'bulk', threshold: 5, probePolicy: new RetryPolicy({ initialMs: 100, maxMs: 5000, random: () => 0.5 }), clock }),
      endpoint: 'the Target bulk API',
      clock,
    }),
    rememberProfiles: 100,
    observer: {
      batchReported: (batch, next) => heard.push([{ ...batch }, next]),
      pollDeferred: (name, next) => heard.push(['deferred', name, next]),
    },
  });
  return { route, heard };
}

describe('BulkRoute reports what it waits for', () => {
  it('at acceptance every row is pending; each report gives the rows still pending and the next poll, none once all settled', async () => {
    const clock = new FakeClock();
    const { route, heard } = observedRoute(
      clock,
      scriptedApi([
        { a: 'pending', b: 'pending', c: 'pending' },
        { a: 'success', b: 'pending', c: 'pending' },
        { b: 'success', c: 'error' },
      ]),
    );
    let settled = 0;
    for (const id of ['a', 'b', 'c']) sendRow(route, id, { tier: 'GOLD' }, () => settled++);
    await clock.until(() => settled === 3);
    const batch = { name: 'batch 1', rows: 3 };
    expect(heard).toEqual([
      [{ ...batch, pending: 3, succeeded: 0, failed: 0 }, 1000],
      [{ ...batch, pending: 3, succeeded: 0, failed: 0 }, 2000],
      [{ ...batch, pending: 2, succeeded: 1, failed: 0 }, 4000],
      [{ ...batch, pending: 0, succeeded: 2, failed: 1 }, undefined],
    ]);
    route.stop();
  });

  it('a status poll that fails for the endpoint tells when the batch is asked again', async () => {
    const clock = new FakeClock();
    const { route, heard } = observedRoute(clock, scriptedApi(['retryable', { a: 'success' }]));
    let settled = 0;
    sendRow(route, 'a', { tier: 'GOLD' }, () => settled++);
    await clock.until(() => settled === 1);
    expect(heard).toEqual([
      [{ name: 'batch 1', rows: 1, pending: 1, succeeded: 0, failed: 0 }, 1000],
      ['deferred', 'batch 1', RETRY.delay(1)],
      [{ name: 'batch 1', rows: 1, pending: 0, succeeded: 1, failed: 0 }, undefined],
    ]);
    route.stop();
  });
});
