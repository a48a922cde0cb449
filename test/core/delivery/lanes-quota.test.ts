/**
 * The lanes when a budget runs out: one warning naming the budget and when it refills, one line
 * when delivery resumes; and on a stop, waits on quota or an outage end at once (their updates
 * cancelled, so left unacknowledged) while requests in flight finish.
 */
import { Writable } from 'node:stream';
import { settling } from '../../support/settling.js';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../../connector/core/delivery/circuit-breaker.js';
import { RollingQuota } from '../../../connector/core/delivery/rolling-quota.js';
import { ACKNOWLEDGED, failureOf, type SendResult, type UpdateResult } from '../../../connector/core/delivery/send-result.js';
import { TargetError } from '../../../connector/core/errors.js';
import { RetryPolicy } from '../../../connector/core/retry.js';
import { createLogger } from '../../../connector/observe/logger.js';
import { createMetrics } from '../../../connector/observe/metrics.js';
import { pipelineObservers } from '../../../connector/observe/pipeline-observers.js';
import { RunStats } from '../../../connector/observe/run-stats.js';
import { FakeClock } from '../../support/fake-clock.js';
import { lanesOf, type LanesSettings } from './lanes-of.js';

const WINDOW_MS = 10_000;

/** Log lines written through the run's observers. */
function capturedLog() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', pretty: false, destination }) };
}

/** Lanes with a quota of `quota` requests per window, Target answering after 5 ms (`answer` decides how). */
function lanesWith(clock: FakeClock, quota: number, options: Partial<LanesSettings> = {}, answer: () => SendResult = () => ACKNOWLEDGED) {
  const log = capturedLog();
  let inFlight = 0;
  const send = (): Promise<SendResult> => {
    inFlight++;
    return new Promise((resolve) =>
      clock.schedule(5, () => {
        inFlight--;
        resolve(answer());
      }),
    );
  };
  const random = () => 0.5;
  const lanes = lanesOf({
    concurrency: 4,
    retry: new RetryPolicy({ initialMs: 100, maxMs: 5000, maxAttempts: 5, random }),
    breaker: new CircuitBreaker({ endpoint: 'Target', threshold: 3, probePolicy: new RetryPolicy({ initialMs: 1000, maxMs: 60_000, random }), clock }),
    quota: new RollingQuota(quota, WINDOW_MS, () => clock.now()),
    clock,
    buildRequests: (u) => [{ method: 'GET', url: `https://t.example/u?id=${u.identity.value}` }],
    send,
    observer: pipelineObservers(createMetrics(), new RunStats(), log.logger).lanes,
    ...options,
  });
  const results = new Map<string, UpdateResult>();
  const submit = (id: string) =>
    lanes.submit(
      { identity: { kind: 'mbox3rdPartyId', value: id }, attributes: { a: id } },
      settling((r) => results.set(id, r)),
    );
  return { lanes, results, submit, lines: log.lines, inFlight: () => inFlight };
}

const exhausted = (lines: Array<Record<string, unknown>>) => lines.filter((l) => String(l.msg).includes('is spent'));
const resumed = (lines: Array<Record<string, unknown>>) => lines.filter((l) => String(l.msg).includes('delivery resumed'));

describe('a spent budget', () => {
  it('is warned about once (which budget, when it refills, what waits), and its end once', async () => {
    const clock = new FakeClock();
    const run = lanesWith(clock, 3);
    for (let i = 0; i < 10; i++) run.submit(`p${i}`);
    await clock.advance(1000);
    expect(run.results.size).toBe(3);
    const warnings = exhausted(run.lines);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, budget: 'the single-update daily quota (delivery.daily_quota)' });
    expect(Date.parse(String(warnings[0]?.refillsAt))).toBeGreaterThan(Date.now());
    expect(String(warnings[0]?.msg)).toContain('updates wait for it and fetching pauses until it refills');
    expect(run.lanes.blocked).toBe(true);
    expect(resumed(run.lines)).toHaveLength(0);

    // The window passes: three more go out, and the resume is told once.
    await clock.advance(WINDOW_MS);
    expect(run.results.size).toBe(6);
    expect(resumed(run.lines)).toHaveLength(1);
    expect(resumed(run.lines)[0]).toMatchObject({ level: 30, budget: 'the single-update daily quota (delivery.daily_quota)' });
    // Spent again at once: a second exhaustion is a second warning.
    expect(exhausted(run.lines)).toHaveLength(2);
    run.lanes.stop();
  });
});

describe('cancelWaits (a stop)', () => {
  it('settles every update waiting for quota as cancelled at once, while the request in flight finishes', async () => {
    const clock = new FakeClock();
    const run = lanesWith(clock, 2);
    for (let i = 0; i < 6; i++) run.submit(`p${i}`);
    await clock.advance(2);
    expect(run.inFlight()).toBe(2);
    run.lanes.cancelWaits();
    // The four waiting for quota (or for a slot, then for quota) end without time passing, with nothing sent.
    await clock.advance(0);
    expect([...run.results.values()].filter((r) => r.status === 'cancelled')).toHaveLength(4);
    expect(run.inFlight()).toBe(2);
    await clock.advance(10);
    expect([...run.results.values()].filter((r) => r.status === 'delivered')).toHaveLength(2);
    let idle = false;
    void run.lanes.whenIdle().then(() => (idle = true));
    await clock.advance(0);
    expect(idle).toBe(true);
    run.lanes.stop();
  });

  it('settles every update parked during an outage as cancelled, and sends no more probes', async () => {
    const clock = new FakeClock();
    let answers = 0;
    const run = lanesWith(clock, 1000, {}, () => {
      answers++;
      return failureOf(new TargetError('Target answered 503', true, { status: 503 }));
    });
    for (let i = 0; i < 8; i++) run.submit(`p${i}`);
    await clock.advance(100);
    expect(run.lanes.blocked).toBe(true);
    run.lanes.cancelWaits();
    await clock.advance(0);
    expect(run.results.size).toBe(8);
    expect([...run.results.values()].every((r) => r.status === 'cancelled')).toBe(true);
    const sent = answers;
    await clock.advance(120_000);
    expect(answers).toBe(sent);
    expect(clock.pending).toBe(0);
    run.lanes.stop();
  });
});
