/**
 * A door that answers every request with 404 (a wrong client code, path or base URL) looks like an
 * outage to delivery, and is waited out as one; but its warning must say it is most likely a
 * configuration error, with the status, the URL without its query and the keys to check.
 */
import { Writable } from 'node:stream';
import { settling } from '../../support/settling.js';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../../connector/core/delivery/circuit-breaker.js';
import { lanesOf } from './lanes-of.js';
import { RollingQuota } from '../../../connector/core/delivery/rolling-quota.js';
import { failureOf, type SendResult, type UpdateResult } from '../../../connector/core/delivery/send-result.js';
import type { OutageBudgetError } from '../../../connector/core/errors.js';
import type { TargetRequest } from '../../../connector/core/profile.js';
import { RetryPolicy } from '../../../connector/core/retry.js';
import { classifyReply } from '../../../connector/core/target-api/reply.js';
import { createLogger } from '../../../connector/observe/logger.js';
import { createMetrics } from '../../../connector/observe/metrics.js';
import { breakerObserver } from '../../../connector/observe/pipeline-observers.js';
import { FakeClock } from '../../support/fake-clock.js';

const ENDPOINT = 'https://user:pw@acme.tt.omtrdc.net/m2/acme-typo/profile/update';
const OUTAGE_BUDGET_MS = 60_000;

/** Lanes whose every request gets `status`, with the run's breaker observer writing into `lines`. */
function doorAnswering(statusOf: (n: number) => number) {
  const clock = new FakeClock();
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = createLogger({ level: 'warn', pretty: false, destination });
  const exhausted: OutageBudgetError[] = [];
  let n = 0;
  const send = (request: TargetRequest): Promise<SendResult> =>
    new Promise((resolve) =>
      clock.schedule(5, () => {
        const status = statusOf(n++);
        resolve(failureOf(classifyReply(status, undefined, 'unknown client code', clock.now(), { url: request.url, pathKey: 'target.path' })));
      }),
    );
  const random = () => 0.5;
  const lanes = lanesOf({
    concurrency: 4,
    retry: new RetryPolicy({ initialMs: 100, maxMs: 5000, maxAttempts: 3, random }),
    breaker: new CircuitBreaker({
      endpoint: 'Target',
      threshold: 3,
      probePolicy: new RetryPolicy({ initialMs: 100, maxMs: 5000, random }),
      clock,
      observer: breakerObserver(createMetrics(), logger, 'target'),
    }),
    outageBudgetMs: OUTAGE_BUDGET_MS,
    quota: new RollingQuota(1_000_000, 86_400_000, () => clock.now()),
    clock,
    buildRequests: (update) => [{ method: 'GET', url: `${ENDPOINT}?mbox3rdPartyId=${update.identity.value}&profile.email=secret%40example.com` }],
    send,
    outageBudgetExhausted: (error) => exhausted.push(error),
  });
  const results = new Map<string, UpdateResult>();
  for (let i = 0; i < 6; i++) {
    const id = `p${i}`;
    lanes.submit(
      { identity: { kind: 'mbox3rdPartyId', value: id }, attributes: { email: 'secret@example.com' } },
      settling((r) => results.set(id, r)),
    );
  }
  return { clock, lines, exhausted, results, lanes };
}

describe('a door that answers only 404', () => {
  it('is reported as a likely configuration error, with status, URL without query and the keys to check', async () => {
    const door = doorAnswering(() => 404);
    await door.clock.advance(1000);
    const opened = door.lines.find((l) => l.likelyConfigError === true);
    expect(opened).toMatchObject({
      level: 40,
      endpoint: 'Target',
      status: 404,
      url: 'https://acme.tt.omtrdc.net/m2/acme-typo/profile/update',
      check: ['target.client_code', 'target.path', 'target.base_url'],
    });
    expect(opened?.msg).toContain('likely a configuration error');
    expect(opened?.msg).toContain('check target.client_code, target.path, target.base_url');
    expect(opened?.msg).toContain('delivery.outage_budget_ms');
    // No secret of the URL and no profile data reach the log.
    const text = JSON.stringify(door.lines);
    expect(text).not.toContain('pw@');
    expect(text).not.toContain('secret');
    expect(text).not.toContain('mbox3rdPartyId=');
    // Waited out as an outage: nothing failed (nothing to dead-letter) ...
    expect(door.results.size).toBe(0);
    // ... until the outage budget ends the run.
    await door.clock.advance(OUTAGE_BUDGET_MS);
    expect(door.exhausted).toHaveLength(1);
    door.lanes.stop();
  });

  it('keeps the plain outage warning when the door answers 503', async () => {
    const door = doorAnswering(() => 503);
    await door.clock.advance(1000);
    expect(door.lines.some((l) => String(l.msg).includes('is failing for every request'))).toBe(true);
    expect(door.lines.some((l) => l.likelyConfigError === true)).toBe(false);
    door.lanes.stop();
  });

  it('keeps the plain outage warning when 404s mix with 503s: not only the settings are at fault', async () => {
    const door = doorAnswering((n) => (n % 2 === 0 ? 404 : 503));
    await door.clock.advance(1000);
    expect(door.lines.some((l) => String(l.msg).includes('is failing for every request'))).toBe(true);
    expect(door.lines.some((l) => l.likelyConfigError === true)).toBe(false);
    door.lanes.stop();
  });
});
