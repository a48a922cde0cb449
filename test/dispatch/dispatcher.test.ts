import { describe, expect, it } from 'vitest';
import { Dispatcher, type DispatcherOptions, type UpdateResult } from '../../connector/dispatch/dispatcher.js';
import { RollingQuota } from '../../connector/dispatch/rolling-quota.js';
import { TargetError } from '../../connector/errors.js';
import type { ProfileUpdate, TargetRequest } from '../../connector/profile.js';

/** Encodes an update as one request whose URL carries the identity and attributes as JSON. */
function fakeBuild(update: ProfileUpdate): TargetRequest[] {
  return [{ method: 'GET', url: JSON.stringify({ id: update.identity.value, a: update.attributes }) }];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Target stand-in recording what arrived and how many requests overlapped. */
function recordingTarget(opts: { latencyMs?: number; fail?: (n: number, req: TargetRequest) => Error | undefined } = {}) {
  const sent: Array<{ id: string; a: Record<string, string> }> = [];
  const inFlightById = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  let maxPerProfile = 0;
  let n = 0;
  const send = async (req: TargetRequest) => {
    const body = JSON.parse(req.url) as { id: string; a: Record<string, string> };
    const count = n++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const mine = (inFlightById.get(body.id) ?? 0) + 1;
    inFlightById.set(body.id, mine);
    maxPerProfile = Math.max(maxPerProfile, mine);
    try {
      await sleep(opts.latencyMs ?? 1);
      const err = opts.fail?.(count, req);
      if (err) throw err;
      sent.push(body);
    } finally {
      inFlight--;
      inFlightById.set(body.id, (inFlightById.get(body.id) ?? 1) - 1);
    }
  };
  return { send, sent, stats: () => ({ maxInFlight, maxPerProfile, attempts: n }) };
}

function dispatcher(send: DispatcherOptions['send'], over: Partial<DispatcherOptions> = {}): Dispatcher {
  return new Dispatcher({
    concurrency: 4,
    maxAttempts: 5,
    initialBackoffMs: 2,
    maxBackoffMs: 10,
    quota: new RollingQuota(1_000_000, 86_400_000),
    buildRequests: fakeBuild,
    send,
    ...over,
  });
}

const update = (id: string, attributes: Record<string, string>): ProfileUpdate => ({
  identity: { kind: 'mbox3rdPartyId', value: id },
  attributes,
});

describe('Dispatcher', () => {
  it('keeps per-profile order, one request per profile in flight, and the concurrency bound', async () => {
    const target = recordingTarget({ latencyMs: 3 });
    const d = dispatcher(target.send, { concurrency: 3 });
    const results: UpdateResult[] = [];
    for (let seq = 0; seq < 20; seq++) {
      for (const id of ['a', 'b', 'c', 'd', 'e']) d.submit(update(id, { seq: String(seq) }), (r) => results.push(r));
      await sleep(1);
    }
    await d.whenIdle();
    expect(results).toHaveLength(100);
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
    const target = recordingTarget({ latencyMs: 20 });
    let coalesced = 0;
    const d = dispatcher(target.send, { observer: { coalesced: () => coalesced++ } });
    const settled: number[] = [];
    d.submit(update('p', { tier: 'silver', city: 'Malmö' }), () => settled.push(0));
    await sleep(2);
    d.submit(update('p', { tier: 'gold' }), () => settled.push(1));
    d.submit(update('p', { email: 'x@y.se' }), () => settled.push(2));
    d.submit(update('p', { tier: 'platinum' }), () => settled.push(3));
    await d.whenIdle();
    expect(target.sent).toEqual([
      { id: 'p', a: { tier: 'silver', city: 'Malmö' } },
      { id: 'p', a: { tier: 'platinum', email: 'x@y.se' } },
    ]);
    expect(settled.sort()).toEqual([0, 1, 2, 3]);
    expect(coalesced).toBe(2);
  });

  it('retries retryable failures until they succeed', async () => {
    const target = recordingTarget({
      fail: (n) => (n < 2 ? new TargetError('503', true, { status: 503 }) : undefined),
    });
    const d = dispatcher(target.send);
    const r = await new Promise<UpdateResult>((resolve) => d.submit(update('a', { x: '1' }), resolve));
    expect(r).toEqual({ status: 'delivered' });
    expect(target.stats().attempts).toBe(3);
  });

  it('fails permanent errors at once and retryable ones after max attempts', async () => {
    const permanent = recordingTarget({ fail: () => new TargetError('400', false, { status: 400 }) });
    const d1 = dispatcher(permanent.send);
    const r1 = await new Promise<UpdateResult>((resolve) => d1.submit(update('a', { x: '1' }), resolve));
    expect(r1).toMatchObject({ status: 'failed', attempts: 1 });
    expect(permanent.stats().attempts).toBe(1);

    const flaky = recordingTarget({ fail: () => new TargetError('503', true, { status: 503 }) });
    const d2 = dispatcher(flaky.send, { maxAttempts: 4 });
    const r2 = await new Promise<UpdateResult>((resolve) => d2.submit(update('a', { x: '1' }), resolve));
    expect(r2).toMatchObject({ status: 'failed', attempts: 4 });
    expect(flaky.stats().attempts).toBe(4);
  });

  it('waits at least Retry-After before retrying', async () => {
    const delays: number[] = [];
    const target = recordingTarget({
      fail: (n) => (n === 0 ? new TargetError('429', true, { status: 429, retryAfterMs: 50 }) : undefined),
    });
    const d = dispatcher(target.send, { observer: { retryScheduled: (_e, ms) => delays.push(ms) } });
    const started = Date.now();
    await new Promise<UpdateResult>((resolve) => d.submit(update('a', { x: '1' }), resolve));
    expect(delays).toEqual([50]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('never exceeds the quota and resumes when budget returns', async () => {
    const target = recordingTarget();
    const sentAt: number[] = [];
    const send = async (req: TargetRequest) => {
      sentAt.push(Date.now());
      await target.send(req);
    };
    const d = dispatcher(send, { quota: new RollingQuota(3, 150) });
    const started = Date.now();
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) d.submit(update(id, { x: id }), () => {});
    await sleep(20);
    expect(target.sent).toHaveLength(3);
    expect(d.waitingForQuota).toBe(true);
    await d.whenIdle();
    expect(target.sent).toHaveLength(6);
    const late = sentAt.slice(3).map((t) => t - started);
    expect(Math.min(...late)).toBeGreaterThanOrEqual(140);
  });

  it('sends the parts of a split update in order, one at a time', async () => {
    const target = recordingTarget({ latencyMs: 2 });
    const split = (u: ProfileUpdate): TargetRequest[] =>
      Object.entries(u.attributes).map(([k, v]) => ({ method: 'POST', url: JSON.stringify({ id: u.identity.value, a: { [k]: v } }) }));
    const d = dispatcher(target.send, { buildRequests: split });
    await new Promise<UpdateResult>((resolve) => d.submit(update('a', { one: '1', two: '2', three: '3' }), resolve));
    expect(target.sent.map((s) => Object.keys(s.a)[0])).toEqual(['one', 'two', 'three']);
    expect(target.stats().maxPerProfile).toBe(1);
  });

  it('cancels queued updates that are no longer live instead of sending them', async () => {
    const target = recordingTarget({ latencyMs: 20 });
    const d = dispatcher(target.send);
    let ownedOld = true;
    const results: string[] = [];
    d.submit(update('p', { v: '1' }), (r) => results.push(`1:${r.status}`), () => ownedOld);
    await sleep(2);
    d.submit(update('p', { v: '2' }), (r) => results.push(`2:${r.status}`), () => ownedOld);
    d.submit(update('p', { w: 'fresh' }), (r) => results.push(`3:${r.status}`), () => true);
    ownedOld = false;
    await d.whenIdle();
    expect(results.sort()).toEqual(['1:delivered', '2:cancelled', '3:delivered']);
    expect(target.sent).toEqual([
      { id: 'p', a: { v: '1' } },
      { id: 'p', a: { w: 'fresh' } },
    ]);
  });

  it('stops retrying a failed request once nothing behind it is live', async () => {
    let live = true;
    const target = recordingTarget({
      fail: () => {
        live = false;
        return new TargetError('503', true, { status: 503 });
      },
    });
    const d = dispatcher(target.send, { maxAttempts: 10 });
    const r = await new Promise<UpdateResult>((resolve) => d.submit(update('a', { x: '1' }), resolve, () => live));
    expect(r).toEqual({ status: 'cancelled' });
    expect(target.stats().attempts).toBe(1);
  });

  it('fails an update whose requests cannot be built, without sending', async () => {
    const target = recordingTarget();
    const d = dispatcher(target.send, {
      buildRequests: () => {
        throw new TargetError('too large', false);
      },
    });
    const r = await new Promise<UpdateResult>((resolve) => d.submit(update('a', { x: '1' }), resolve));
    expect(r).toMatchObject({ status: 'failed', attempts: 0 });
    expect(target.stats().attempts).toBe(0);
  });
});
