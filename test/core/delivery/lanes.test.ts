import { settling } from '../../support/settling.js';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../../connector/core/delivery/circuit-breaker.js';
import type { Claim, Lanes } from '../../../connector/core/delivery/lanes.js';
import { lanesOf, type LanesSettings } from './lanes-of.js';
import { type UpdateResult } from '../../../connector/core/delivery/send-result.js';
import { ACKNOWLEDGED, failureOf, type SendResult } from '../../../connector/core/delivery/send-result.js';
import { RollingQuota } from '../../../connector/core/delivery/rolling-quota.js';
import { ConnectorError, TargetError, type OutageBudgetError } from '../../../connector/core/errors.js';
import type { ProfileUpdate, TargetRequest } from '../../../connector/core/profile.js';
import { RetryPolicy } from '../../../connector/core/retry.js';
import { FakeClock } from '../../support/fake-clock.js';

/** Encodes an update as one request whose URL carries the identity and attributes as JSON. */
function fakeBuild(update: ProfileUpdate): TargetRequest[] {
  return [{ method: 'GET', url: JSON.stringify({ id: update.identity.value, a: update.attributes }) }];
}

const unavailable = () => new TargetError('Target answered 503', true, { status: 503 });
const refused = () => new ConnectorError('TARGET_REJECTED', 'Target answered 404', false);

interface Sent {
  id: string;
  a: Record<string, string>;
}

/** A Target stand-in on fake time, recording what arrived and how many requests overlapped. */
function recordingTarget(clock: FakeClock, opts: { latencyMs?: (id: string) => number; fail?: (n: number, body: Sent) => Error | undefined } = {}) {
  const sent: Sent[] = [];
  const attemptsAt: Array<{ id: string; at: number; failed: boolean }> = [];
  const inFlightById = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  let maxPerProfile = 0;
  let n = 0;
  const send = (req: TargetRequest) => {
    const body = JSON.parse(req.url) as Sent;
    const count = n++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const mine = (inFlightById.get(body.id) ?? 0) + 1;
    inFlightById.set(body.id, mine);
    maxPerProfile = Math.max(maxPerProfile, mine);
    return new Promise<SendResult>((resolve) => {
      clock.schedule(opts.latencyMs?.(body.id) ?? 1, () => {
        inFlight--;
        inFlightById.set(body.id, (inFlightById.get(body.id) ?? 1) - 1);
        const err = opts.fail?.(count, body);
        attemptsAt.push({ id: body.id, at: clock.now(), failed: err !== undefined });
        if (err) return resolve(failureOf(err));
        sent.push(body);
        resolve(ACKNOWLEDGED);
      });
    });
  };
  return { send, sent, attemptsAt, stats: () => ({ maxInFlight, maxPerProfile, attempts: n }) };
}

function dispatcher(clock: FakeClock, send: LanesSettings['send'], over: Partial<LanesSettings> & { maxAttempts?: number; threshold?: number } = {}): Lanes {
  const { maxAttempts = 5, threshold = 3, ...rest } = over;
  const random = () => 0.5;
  return lanesOf({
    concurrency: 4,
    retry: new RetryPolicy({ initialMs: 20, maxMs: 1000, maxAttempts, random }),
    breaker: new CircuitBreaker({ endpoint: 'Target', threshold, probePolicy: new RetryPolicy({ initialMs: 20, maxMs: 1000, random }), clock }),
    quota: new RollingQuota(1_000_000, 86_400_000, () => clock.now()),
    clock,
    buildRequests: fakeBuild,
    send,
    ...rest,
  });
}

const update = (id: string, attributes: Record<string, string>): ProfileUpdate => ({
  identity: { kind: 'mbox3rdPartyId', value: id },
  attributes,
});

/** Submits and collects the result into `into`. */
function submitTo(d: Lanes, into: Map<string, UpdateResult>, name: string, u: ProfileUpdate, claim?: Claim): void {
  d.submit(
    u,
    settling((r) => into.set(name, r)),
    claim,
  );
}

/** A claim whose ownership the test switches off. */
function claimOf(owned: () => boolean): Claim {
  return {
    get owned() {
      return owned();
    },
  };
}

describe('Lanes', () => {
  it('keeps per-profile order, one request per profile in flight, and the concurrency bound', async () => {
    const clock = new FakeClock();
    const target = recordingTarget(clock, { latencyMs: () => 3 });
    const d = dispatcher(clock, target.send, { concurrency: 3 });
    const results: UpdateResult[] = [];
    for (let seq = 0; seq < 20; seq++) {
      for (const id of ['a', 'b', 'c', 'd', 'e'])
        d.submit(
          update(id, { seq: String(seq) }),
          settling((r) => results.push(r)),
        );
      await clock.advance(1);
    }
    await clock.until(() => results.length === 100);
    expect(results.every((r) => r.status === 'delivered')).toBe(true);
    expect(target.stats().maxPerProfile).toBe(1);
    expect(target.stats().maxInFlight).toBeLessThanOrEqual(3);
    for (const id of ['a', 'b', 'c', 'd', 'e']) {
      const seqs = target.sent.filter((s) => s.id === id).map((s) => Number(s.a.seq));
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(seqs.at(-1)).toBe(19);
    }
  });

  it('merges updates queued behind a busy profile, later value winning, settling every one', async () => {
    const clock = new FakeClock();
    const target = recordingTarget(clock, { latencyMs: () => 20 });
    let coalesced = 0;
    const d = dispatcher(clock, target.send, { observer: { coalesced: () => coalesced++ } });
    const settled: number[] = [];
    d.submit(
      update('p', { tier: 'silver', city: 'Malmö' }),
      settling(() => settled.push(0)),
    );
    await clock.advance(2);
    const gold = update('p', { tier: 'gold' });
    d.submit(
      gold,
      settling(() => settled.push(1)),
    );
    d.submit(
      update('p', { email: 'x@y.se' }),
      settling(() => settled.push(2)),
    );
    d.submit(
      update('p', { tier: 'platinum' }),
      settling(() => settled.push(3)),
    );
    await clock.until(() => settled.length === 4);
    // Merged into a copy: the submitter's update is left as it was.
    expect(gold.attributes).toEqual({ tier: 'gold' });
    expect(target.sent).toEqual([
      { id: 'p', a: { tier: 'silver', city: 'Malmö' } },
      { id: 'p', a: { tier: 'platinum', email: 'x@y.se' } },
    ]);
    expect(settled.sort()).toEqual([0, 1, 2, 3]);
    expect(coalesced).toBe(2);
  });

  it('retries retryable failures until they succeed, spacing the retries by the policy', async () => {
    const clock = new FakeClock();
    const target = recordingTarget(clock, { fail: (n) => (n < 2 ? unavailable() : undefined) });
    const delays: number[] = [];
    const d = dispatcher(clock, target.send, { observer: { retryScheduled: (_e, ms) => delays.push(ms) } });
    const results = new Map<string, UpdateResult>();
    submitTo(d, results, 'a', update('a', { x: '1' }));
    await clock.until(() => results.has('a'));
    expect(results.get('a')).toEqual({ status: 'delivered' });
    expect(target.stats().attempts).toBe(3);
    // full jitter at 0.5 of 20 ms, then of 40 ms
    expect(delays).toEqual([10, 20]);
  });

  it('dead-letters a request that keeps failing while Target serves other profiles, after max_attempts', async () => {
    const clock = new FakeClock();
    const target = recordingTarget(clock, {
      latencyMs: (id) => (id === 'poison' ? 5 : 1),
      fail: (_n, body) => (body.id === 'poison' ? unavailable() : undefined),
    });
    const d = dispatcher(clock, target.send, { maxAttempts: 4 });
    const results = new Map<string, UpdateResult>();
    submitTo(d, results, 'poison', update('poison', { x: '1' }));
    // Healthy traffic for other profiles all along.
    for (let i = 0; i < 400 && !results.has('poison'); i++) {
      submitTo(d, results, `ok${i}`, update(`ok${i % 7}`, { n: String(i) }));
      await clock.advance(2);
    }
    expect(results.get('poison')).toMatchObject({ status: 'failed', attempts: 4 });
    expect(target.attemptsAt.filter((a) => a.id === 'poison')).toHaveLength(4);
  });

  it('fails a refused (permanent) request at once when Target serves others meanwhile', async () => {
    const clock = new FakeClock();
    const target = recordingTarget(clock, {
      latencyMs: (id) => (id === 'bad' ? 10 : 1),
      fail: (_n, body) => (body.id === 'bad' ? refused() : undefined),
    });
    const d = dispatcher(clock, target.send);
    const results = new Map<string, UpdateResult>();
    submitTo(d, results, 'bad', update('bad', { x: '1' }));
    submitTo(d, results, 'good', update('good', { x: '1' }));
    await clock.until(() => results.size === 2);
    expect(results.get('bad')).toMatchObject({ status: 'failed', attempts: 1 });
    expect(target.stats().attempts).toBe(2);
  });

  it('waits out an outage of every profile without failing anything, probing one request at a time', async () => {
    const clock = new FakeClock();
    const outageEnds = clock.now() + 10 * 60_000;
    let concurrentWhileOpen = 0;
    let inFlight = 0;
    const breakerStates: string[] = [];
    const target = recordingTarget(clock, { fail: () => (clock.now() < outageEnds ? unavailable() : undefined) });
    const breaker = new CircuitBreaker({
      endpoint: 'Target',
      threshold: 3,
      probePolicy: new RetryPolicy({ initialMs: 20, maxMs: 5000, random: () => 0.5 }),
      clock,
      observer: { opened: () => breakerStates.push('opened'), closed: () => breakerStates.push('closed') },
    });
    const send = async (req: TargetRequest) => {
      inFlight++;
      if (breaker.isOpen) concurrentWhileOpen = Math.max(concurrentWhileOpen, inFlight);
      try {
        return await target.send(req);
      } finally {
        inFlight--;
      }
    };
    const d = dispatcher(clock, send, { breaker, maxAttempts: 2 });
    const results = new Map<string, UpdateResult>();
    for (let i = 0; i < 50; i++) submitTo(d, results, `e${i}`, update(`p${i % 10}`, { seq: String(i) }));
    await clock.advance(60_000);
    expect(d.blocked).toBe(true);
    expect(results.size).toBe(0);
    await clock.until(() => results.size === 50);
    expect([...results.values()].every((r) => r.status === 'delivered')).toBe(true);
    expect(breakerStates).toEqual(['opened', 'closed']);
    expect(concurrentWhileOpen).toBe(1);
    // Probes are spaced by the policy: ten minutes of outage take far fewer than 10 * 60 * 1000 / 20 requests.
    expect(target.stats().attempts).toBeLessThan(1000);
    for (let p = 0; p < 10; p++) {
      const seqs = target.sent.filter((s) => s.id === `p${p}`).flatMap((s) => Number(s.a.seq));
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    }
  });

  it('waits out a 404 for every request: an endpoint refusing everyone is an outage, not bad events', async () => {
    const clock = new FakeClock();
    let misconfigured = true;
    const target = recordingTarget(clock, { fail: () => (misconfigured ? refused() : undefined) });
    const d = dispatcher(clock, target.send);
    const results = new Map<string, UpdateResult>();
    for (let i = 0; i < 20; i++) submitTo(d, results, `e${i}`, update(`p${i}`, { x: '1' }));
    await clock.advance(30 * 60_000);
    expect(results.size).toBe(0);
    misconfigured = false;
    await clock.until(() => results.size === 20);
    expect([...results.values()].every((r) => r.status === 'delivered')).toBe(true);
  });

  it('probes a different profile after a failed probe, so one bad request cannot hold the breaker open', async () => {
    const clock = new FakeClock();
    let down = true;
    const target = recordingTarget(clock, { fail: (_n, body) => (down || body.id === 'poison' ? unavailable() : undefined) });
    const d = dispatcher(clock, target.send, { maxAttempts: 3 });
    const results = new Map<string, UpdateResult>();
    submitTo(d, results, 'poison', update('poison', { x: '1' }));
    for (let i = 0; i < 5; i++) submitTo(d, results, `ok${i}`, update(`ok${i}`, { x: '1' }));
    await clock.advance(5000);
    expect(d.blocked).toBe(true);
    down = false;
    // Target serves the other profiles again; only the poison request keeps failing.
    for (let i = 5; i < 500 && !results.has('poison'); i++) {
      submitTo(d, results, `ok${i}`, update(`ok${i % 5}`, { n: String(i) }));
      await clock.advance(5);
    }
    await clock.until(() => results.has('poison'), 60_000);
    expect(results.get('poison')).toMatchObject({ status: 'failed', attempts: 3 });
    for (let i = 0; i < 5; i++) expect(results.get(`ok${i}`)).toEqual({ status: 'delivered' });
  });

  it('reports an outage that outlasts the budget, and still dead-letters nothing', async () => {
    const clock = new FakeClock();
    const target = recordingTarget(clock, { fail: () => unavailable() });
    const exhausted: OutageBudgetError[] = [];
    const d = dispatcher(clock, target.send, { outageBudgetMs: 60_000, outageBudgetExhausted: (e) => exhausted.push(e) });
    const results = new Map<string, UpdateResult>();
    for (let i = 0; i < 10; i++) submitTo(d, results, `e${i}`, update(`p${i}`, { x: '1' }));
    await clock.advance(59_000);
    expect(exhausted).toHaveLength(0);
    await clock.advance(2000);
    expect(exhausted).toHaveLength(1);
    expect(exhausted[0]?.code).toBe('OUTAGE_BUDGET_EXHAUSTED');
    expect(results.size).toBe(0);
    d.stop();
  });

  it('waits at least Retry-After before retrying', async () => {
    const clock = new FakeClock();
    const delays: number[] = [];
    const target = recordingTarget(clock, {
      fail: (n) => (n === 0 ? new TargetError('429', true, { status: 429, retryAfterMs: 5000 }) : undefined),
    });
    const d = dispatcher(clock, target.send, { observer: { retryScheduled: (_e, ms) => delays.push(ms) } });
    const results = new Map<string, UpdateResult>();
    const started = clock.now();
    submitTo(d, results, 'a', update('a', { x: '1' }));
    await clock.until(() => results.has('a'));
    expect(delays).toEqual([5000]);
    expect(target.attemptsAt[1]!.at - started).toBeGreaterThanOrEqual(5000);
  });

  it('never exceeds the quota and resumes when budget returns', async () => {
    const clock = new FakeClock();
    const target = recordingTarget(clock);
    const d = dispatcher(clock, target.send, { quota: new RollingQuota(3, 150, () => clock.now()) });
    const started = clock.now();
    const results = new Map<string, UpdateResult>();
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) submitTo(d, results, id, update(id, { x: id }));
    await clock.advance(20);
    expect(target.sent).toHaveLength(3);
    expect(d.blocked).toBe(true);
    await clock.until(() => results.size === 6);
    const late = target.attemptsAt.slice(3).map((a) => a.at - started);
    expect(Math.min(...late)).toBeGreaterThanOrEqual(150);
  });

  it('sends the parts of a split update in order, one at a time', async () => {
    const clock = new FakeClock();
    const target = recordingTarget(clock, { latencyMs: () => 2 });
    const split = (u: ProfileUpdate): TargetRequest[] =>
      Object.entries(u.attributes).map(([k, v]) => ({ method: 'POST', url: JSON.stringify({ id: u.identity.value, a: { [k]: v } }) }));
    const d = dispatcher(clock, target.send, { buildRequests: split });
    const results = new Map<string, UpdateResult>();
    submitTo(d, results, 'a', update('a', { one: '1', two: '2', three: '3' }));
    await clock.until(() => results.has('a'));
    expect(target.sent.map((s) => Object.keys(s.a)[0])).toEqual(['one', 'two', 'three']);
    expect(target.stats().maxPerProfile).toBe(1);
  });

  it('cancels queued updates that are no longer live instead of sending them', async () => {
    const clock = new FakeClock();
    const target = recordingTarget(clock, { latencyMs: () => 20 });
    const d = dispatcher(clock, target.send);
    let ownedOld = true;
    const results = new Map<string, UpdateResult>();
    submitTo(
      d,
      results,
      '1',
      update('p', { v: '1' }),
      claimOf(() => ownedOld),
    );
    await clock.advance(2);
    submitTo(
      d,
      results,
      '2',
      update('p', { v: '2' }),
      claimOf(() => ownedOld),
    );
    submitTo(
      d,
      results,
      '3',
      update('p', { w: 'fresh' }),
      claimOf(() => true),
    );
    ownedOld = false;
    await clock.until(() => results.size === 3);
    expect(Object.fromEntries([...results].map(([k, r]) => [k, r.status]))).toEqual({ 1: 'delivered', 2: 'cancelled', 3: 'delivered' });
    expect(target.sent).toEqual([
      { id: 'p', a: { v: '1' } },
      { id: 'p', a: { w: 'fresh' } },
    ]);
  });

  it('sends nothing for an update whose partition moved while it waited for quota', async () => {
    const clock = new FakeClock();
    const target = recordingTarget(clock);
    const d = dispatcher(clock, target.send, { quota: new RollingQuota(1, 100, () => clock.now()) });
    let owned = true;
    const results = new Map<string, UpdateResult>();
    submitTo(d, results, 'a', update('a', { x: '1' }));
    submitTo(
      d,
      results,
      'b',
      update('b', { x: 'stale' }),
      claimOf(() => owned),
    );
    await clock.advance(20);
    expect(target.sent).toEqual([{ id: 'a', a: { x: '1' } }]);
    // b waits for quota; meanwhile its partition goes to another member, which sends b's newer values.
    owned = false;
    await clock.until(() => results.size === 2);
    expect(results.get('b')).toEqual({ status: 'cancelled' });
    expect(target.sent).toEqual([{ id: 'a', a: { x: '1' } }]);
  });

  it('stops retrying a failed request once nothing behind it is live', async () => {
    const clock = new FakeClock();
    let live = true;
    const target = recordingTarget(clock, {
      fail: () => {
        live = false;
        return unavailable();
      },
    });
    const d = dispatcher(clock, target.send, { maxAttempts: 10 });
    const results = new Map<string, UpdateResult>();
    submitTo(
      d,
      results,
      'a',
      update('a', { x: '1' }),
      claimOf(() => live),
    );
    await clock.until(() => results.has('a'));
    expect(results.get('a')).toEqual({ status: 'cancelled' });
    expect(target.stats().attempts).toBe(1);
  });

  it('fails an update whose requests cannot be built, without sending', async () => {
    const clock = new FakeClock();
    const target = recordingTarget(clock);
    const d = dispatcher(clock, target.send, {
      buildRequests: () => {
        throw new TargetError('too large', false);
      },
    });
    const results = new Map<string, UpdateResult>();
    submitTo(d, results, 'a', update('a', { x: '1' }));
    await clock.until(() => results.has('a'));
    expect(results.get('a')).toMatchObject({ status: 'failed', attempts: 0 });
    expect(target.stats().attempts).toBe(0);
  });
});
