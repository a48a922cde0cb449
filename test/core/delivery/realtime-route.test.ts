import { settling } from '../../support/settling.js';
import { describe, expect, it } from 'vitest';
import { BudgetWaits } from '../../../connector/core/delivery/budget-waits.js';
import type { Budget } from '../../../connector/core/delivery/budget.js';
import { CircuitBreaker } from '../../../connector/core/delivery/circuit-breaker.js';
import { Lanes, type Lane } from '../../../connector/core/delivery/lanes.js';
import { OutageGate } from '../../../connector/core/delivery/outage-gate.js';
import { RealtimeRoute, unlimitedBudget } from '../../../connector/core/delivery/realtime-route.js';
import { RollingQuota } from '../../../connector/core/delivery/rolling-quota.js';
import { ACKNOWLEDGED, failureOf, type SendResult, type UpdateResult } from '../../../connector/core/delivery/send-result.js';
import { SingleRoute } from '../../../connector/core/delivery/single-route.js';
import { TargetError } from '../../../connector/core/errors.js';
import type { ProfileUpdate, TargetRequest } from '../../../connector/core/profile.js';
import { RetryPolicy } from '../../../connector/core/retry.js';
import { MAX_DELIVERY_CONCURRENT_PER_SESSION } from '../../../connector/core/target-api/limits.js';
import { createDeliveryRequestBuilder, type DeliveryRequest } from '../../../connector/core/target-api/delivery-request.js';
import { FakeClock } from '../../support/fake-clock.js';

const deliveryBuilder = createDeliveryRequestBuilder({
  baseUrl: 'https://acme.tt.omtrdc.net',
  path: '/rest/v1/delivery',
  clientCode: 'acme',
  mbox: 'target-profile-sink',
  channel: 'web',
});

/** One call as it reached a door. */
interface Arrival {
  route: 'single' | 'realtime';
  id: string;
  a: Record<string, string>;
  at: number;
}

type Fail = (route: Arrival['route'], id: string, attempt: number) => SendResult | undefined;

/** Both doors on fake time: what arrived, in order, and how many calls of one session overlapped. */
function doors(clock: FakeClock, opts: { latencyMs?: number; fail?: Fail } = {}) {
  const arrivals: Arrival[] = [];
  const inSession = new Map<string, number>();
  let maxPerSession = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let attempt = 0;
  const answer = (route: Arrival['route'], id: string, a: Record<string, string>): Promise<SendResult> =>
    new Promise((resolve) => {
      const n = attempt++;
      clock.schedule(opts.latencyMs ?? 5, () => {
        const failure = opts.fail?.(route, id, n);
        if (failure) return resolve(failure);
        arrivals.push({ route, id, a, at: clock.now() });
        resolve(ACKNOWLEDGED);
      });
    });
  return {
    arrivals,
    stats: () => ({ maxPerSession, maxInFlight }),
    single: (req: TargetRequest) => {
      const { id, a } = JSON.parse(req.url) as { id: string; a: Record<string, string> };
      return answer('single', id, a);
    },
    async realtime(call: DeliveryRequest): Promise<SendResult> {
      const body = JSON.parse(call.body) as { id: { thirdPartyId: string }; execute: { mboxes: Array<{ profileParameters: Record<string, string> }> } };
      const mine = (inSession.get(call.sessionId) ?? 0) + 1;
      inSession.set(call.sessionId, mine);
      maxPerSession = Math.max(maxPerSession, mine);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        return await answer('realtime', body.id.thirdPartyId, body.execute.mboxes[0]?.profileParameters ?? {});
      } finally {
        inFlight--;
        inSession.set(call.sessionId, (inSession.get(call.sessionId) ?? 1) - 1);
      }
    },
  };
}

const random = () => 0.5;
const gateOf = (clock: FakeClock, endpoint: string) =>
  new OutageGate({
    breaker: new CircuitBreaker({ endpoint, threshold: 2, probePolicy: new RetryPolicy({ initialMs: 20, maxMs: 200, random }), clock }),
    endpoint,
    clock,
  });

/** Lanes over a single and a realtime route, as createDeliveryEngine wires them. */
function lanesOver(clock: FakeClock, target: ReturnType<typeof doors>, over: { concurrency?: number; realtimeBudget?: Budget } = {}) {
  const retry = new RetryPolicy({ initialMs: 20, maxMs: 200, maxAttempts: 3, random });
  const single = new SingleRoute<Lane>({
    concurrency: 4,
    retry,
    gate: gateOf(clock, 'Target'),
    quota: new BudgetWaits(new RollingQuota(1_000_000, 86_400_000, () => clock.now()), clock),
    clock,
    buildRequests: (u: ProfileUpdate) => [{ method: 'GET', url: JSON.stringify({ id: u.identity.value, a: u.attributes }) }],
    send: target.single,
  });
  const realtimeGate = gateOf(clock, 'the Delivery API');
  const realtime = new RealtimeRoute<Lane>({
    concurrency: over.concurrency ?? 4,
    retry,
    gate: realtimeGate,
    quota: new BudgetWaits(over.realtimeBudget ?? unlimitedBudget('calls'), clock),
    clock,
    buildRequests: (u) => deliveryBuilder.build(u),
    send: (call) => target.realtime(call),
  });
  return { lanes: new Lanes({ single, realtime }), realtimeGate };
}

const single = (id: string, attributes: Record<string, string>): ProfileUpdate => ({ identity: { kind: 'mbox3rdPartyId', value: id }, attributes });
const realtime = (id: string, attributes: Record<string, string>): ProfileUpdate => ({ ...single(id, attributes), route: 'realtime' });

const unavailable = (): SendResult => failureOf(new TargetError('Target answered 503', true, { status: 503 }));

describe('the realtime route under the lane scheduler', () => {
  it("sends a profile's single and realtime updates one at a time, in submit order", async () => {
    const clock = new FakeClock();
    const target = doors(clock);
    const { lanes } = lanesOver(clock, target);
    const results: UpdateResult[] = [];
    lanes.submit(
      single('p', { tier: 'gold' }),
      settling((r) => results.push(r)),
    );
    await clock.advance(1);
    lanes.submit(
      realtime('p', { swipe: '1' }),
      settling((r) => results.push(r)),
    );
    lanes.submit(
      single('p', { tier: 'platinum' }),
      settling((r) => results.push(r)),
    );
    await clock.until(() => results.length === 3);
    expect(results.every((r) => r.status === 'delivered')).toBe(true);
    expect(target.arrivals.map(({ route, a }) => ({ route, a }))).toEqual([
      { route: 'single', a: { tier: 'gold' } },
      { route: 'realtime', a: { swipe: '1' } },
      { route: 'single', a: { tier: 'platinum' } },
    ]);
  });

  it('merges queued updates of one route only, never a realtime one into a single one', async () => {
    const clock = new FakeClock();
    const target = doors(clock);
    const { lanes } = lanesOver(clock, target);
    const results: UpdateResult[] = [];
    lanes.submit(
      single('p', { tier: 'gold' }),
      settling((r) => results.push(r)),
    );
    await clock.advance(1);
    lanes.submit(
      realtime('p', { swipe: '1' }),
      settling((r) => results.push(r)),
    );
    lanes.submit(
      realtime('p', { store: 'Malmö' }),
      settling((r) => results.push(r)),
    );
    lanes.submit(
      single('p', { tier: 'silver' }),
      settling((r) => results.push(r)),
    );
    lanes.submit(
      single('p', { city: 'Lund' }),
      settling((r) => results.push(r)),
    );
    lanes.submit(
      realtime('p', { swipe: '2' }),
      settling((r) => results.push(r)),
    );
    await clock.until(() => results.length === 6);
    expect(target.arrivals.map(({ route, a }) => ({ route, a }))).toEqual([
      { route: 'single', a: { tier: 'gold' } },
      { route: 'realtime', a: { swipe: '1', store: 'Malmö' } },
      { route: 'single', a: { tier: 'silver', city: 'Lund' } },
      { route: 'realtime', a: { swipe: '2' } },
    ]);
  });

  it("holds only realtime lanes while the Delivery endpoint is down; other profiles' single updates flow", async () => {
    const clock = new FakeClock();
    let deliveryDown = true;
    const target = doors(clock, { fail: (route) => (route === 'realtime' && deliveryDown ? unavailable() : undefined) });
    const { lanes, realtimeGate } = lanesOver(clock, target);
    const results = new Map<string, UpdateResult>();
    lanes.submit(
      realtime('r1', { swipe: '1' }),
      settling((r) => results.set('r1', r)),
    );
    lanes.submit(
      realtime('r2', { swipe: '2' }),
      settling((r) => results.set('r2', r)),
    );
    await clock.until(() => realtimeGate.isOpen);
    for (const id of ['s1', 's2', 's3'])
      lanes.submit(
        single(id, { tier: id }),
        settling((r) => results.set(id, r)),
      );
    await clock.until(() => ['s1', 's2', 's3'].every((id) => results.has(id)));
    expect(['s1', 's2', 's3'].map((id) => results.get(id)?.status)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(results.has('r1') || results.has('r2')).toBe(false);
    expect(lanes.blocked).toBe(false);
    await clock.advance(5_000);
    expect(results.has('r1') || results.has('r2')).toBe(false);
    deliveryDown = false;
    await clock.until(() => results.size === 5);
    expect(results.get('r1')).toEqual({ status: 'delivered' });
    expect(results.get('r2')).toEqual({ status: 'delivered' });
  });

  it('waits for its call budget when it is spent, and sends once it refills', async () => {
    const clock = new FakeClock();
    const target = doors(clock);
    const { lanes } = lanesOver(clock, target, { realtimeBudget: new RollingQuota(1, 60_000, () => clock.now(), 'the Delivery call budget') });
    const results = new Map<string, UpdateResult>();
    lanes.submit(
      realtime('a', { swipe: '1' }),
      settling((r) => results.set('a', r)),
    );
    lanes.submit(
      realtime('b', { swipe: '2' }),
      settling((r) => results.set('b', r)),
    );
    lanes.submit(
      single('c', { tier: 'gold' }),
      settling((r) => results.set('c', r)),
    );
    await clock.advance(1_000);
    expect([...results.keys()].sort()).toEqual(['a', 'c']);
    await clock.until(() => results.has('b'));
    expect(results.get('b')).toEqual({ status: 'delivered' });
    expect(clock.now() - (target.arrivals.find((x) => x.id === 'a')?.at ?? 0)).toBeGreaterThanOrEqual(59_000);
  });

  it("fails only the update Target refused for good, with the reply's error", async () => {
    const clock = new FakeClock();
    const refused = new TargetError('Target answered 400: invalid profile parameter', false, { status: 400 });
    const target = doors(clock, { fail: (route, id) => (route === 'realtime' && id === 'bad' ? failureOf(refused) : undefined) });
    const { lanes, realtimeGate } = lanesOver(clock, target);
    const results = new Map<string, UpdateResult>();
    // Another profile's success first: the refusal is then the call's own fault, not an outage.
    lanes.submit(
      realtime('good', { swipe: '1' }),
      settling((r) => results.set('good', r)),
    );
    await clock.until(() => results.has('good'));
    lanes.submit(
      realtime('bad', { swipe: '2' }),
      settling((r) => results.set('bad', r)),
    );
    lanes.submit(
      realtime('good', { swipe: '3' }),
      settling((r) => results.set('good2', r)),
    );
    await clock.until(() => results.size === 3);
    expect(results.get('bad')).toEqual({ status: 'failed', error: refused, attempts: 1 });
    expect(results.get('good2')).toEqual({ status: 'delivered' });
    expect(realtimeGate.isOpen).toBe(false);
    expect(target.arrivals.map((x) => x.id)).toEqual(['good', 'good']);
  });

  it('sends an oversized update as several calls in order, the next only after the previous succeeded', async () => {
    const clock = new FakeClock();
    let failedOnce = false;
    const target = doors(clock, {
      fail: (_route, _id, n) => {
        if (n !== 1 || failedOnce) return undefined;
        failedOnce = true;
        return unavailable();
      },
    });
    const { lanes } = lanesOver(clock, target);
    const big = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`attr${i}`, 'x'.repeat(200)]));
    expect(deliveryBuilder.build(realtime('p', big)).length).toBeGreaterThan(1);
    let result: UpdateResult | undefined;
    lanes.submit(
      realtime('p', big),
      settling((r) => (result = r)),
    );
    await clock.until(() => result !== undefined);
    expect(result).toEqual({ status: 'delivered' });
    const merged = Object.assign({}, ...target.arrivals.map((x) => x.a)) as Record<string, string>;
    expect(merged).toEqual(big);
    expect(target.arrivals.map((x) => Object.keys(x.a)[0])).toEqual(
      deliveryBuilder
        .build(realtime('p', big))
        .map(
          (call) =>
            Object.keys((JSON.parse(call.body) as { execute: { mboxes: Array<{ profileParameters: object }> } }).execute.mboxes[0]!.profileParameters)[0],
        ),
    );
  });

  it("never has more than one call of a profile's session in flight, whatever the concurrency (Target allows 100)", async () => {
    const clock = new FakeClock();
    const target = doors(clock, { latencyMs: 7 });
    const { lanes } = lanesOver(clock, target, { concurrency: 3 * MAX_DELIVERY_CONCURRENT_PER_SESSION });
    let settled = 0;
    for (let seq = 0; seq < 5; seq++) {
      for (let p = 0; p < 250; p++)
        lanes.submit(
          realtime(`p${p % 120}`, { seq: String(seq), n: String(p) }),
          settling(() => settled++),
        );
      await clock.advance(2);
    }
    await clock.until(() => settled === 1250);
    expect(target.stats().maxPerSession).toBe(1);
    expect(target.stats().maxInFlight).toBeGreaterThan(MAX_DELIVERY_CONCURRENT_PER_SESSION);
  });
});
