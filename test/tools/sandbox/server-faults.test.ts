import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../connector/core/errors.js';
import type { Sandbox } from '../../../connector/tools/sandbox/server.js';
import { call } from './http-client.js';
import { updateUrl, useSandboxes } from './sandbox-fixture.js';

const start = useSandboxes();

async function statuses(sandbox: Sandbox, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push((await call('GET', updateUrl(sandbox, `c-${i}`, '&profile.n=1'))).status);
  return out;
}

/** Waits until `condition` holds; after 2 s fails saying `what` did not happen. */
async function waitFor(what: string, condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await sleep(20);
  expect(condition(), `${what} within 2 s`).toBe(true);
}

describe('sandbox quota', () => {
  it('answers 429 with Retry-After once the rolling budget is spent, then recovers', async () => {
    // The quota's window passes on a clock the test steps, not on the wall clock.
    let now = Date.parse('2025-01-01T00:00:00Z');
    const sandbox = await start({ createMissing: true, quota: 2, quotaWindowMs: 700, clock: () => now });
    expect(await statuses(sandbox, 2)).toEqual([200, 200]);
    const refused = await call('GET', updateUrl(sandbox, 'c-late', '&profile.n=1'));
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('1');
    expect(sandbox.profile('mbox3rdPartyId', 'c-late')).toBeUndefined();

    now += 700;
    expect((await call('GET', updateUrl(sandbox, 'c-late', '&profile.n=1'))).status).toBe(200);
    expect(sandbox.stats().byStatus).toEqual({ '200': 3, '429': 1 });
    expect(sandbox.updates().map((u) => u.identity.value)).toEqual(['c-0', 'c-1', 'c-late']);
  });
});

describe('sandbox fault injection', () => {
  it('answers the configured fraction 503, identically for the same seed', async () => {
    const first = await statuses(await start({ createMissing: true, failRate: 0.3, seed: 99 }), 200);
    const again = await statuses(await start({ createMissing: true, failRate: 0.3, seed: 99 }), 200);
    const other = await statuses(await start({ createMissing: true, failRate: 0.3, seed: 100 }), 200);
    const failures = first.filter((s) => s === 503).length;
    expect(failures).toBeGreaterThan(40);
    expect(failures).toBeLessThan(80);
    expect(new Set(first)).toEqual(new Set([200, 503]));
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it('answers 429 with the configured Retry-After and applies nothing', async () => {
    const sandbox = await start({ createMissing: true, rate429: 1, retryAfterSeconds: 7 });
    const reply = await call('GET', updateUrl(sandbox, 'c', '&profile.n=1'));
    expect(reply.status).toBe(429);
    expect(reply.headers['retry-after']).toBe('7');
    expect(sandbox.updates()).toEqual([]);
  });

  it('resets the connection without a reply', async () => {
    const sandbox = await start({ createMissing: true, resetRate: 1 });
    await expect(call('GET', updateUrl(sandbox, 'c', '&profile.n=1'))).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(sandbox.stats()).toMatchObject({ resets: 1, updates: 0, byStatus: {} });
    await waitFor('the hung request no longer in flight once the client gave up', () => sandbox.stats().inFlight === 0);
  });

  it('never answers a hung request, which stays in flight until the client gives up', async () => {
    const sandbox = await start({ createMissing: true, hangRate: 1 });
    const pending = call('GET', updateUrl(sandbox, 'c', '&profile.n=1'), { timeoutMs: 400 });
    await waitFor('the hung request in flight', () => sandbox.stats().inFlight === 1);
    await expect(pending).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    await waitFor('the hung request no longer in flight once the client gave up', () => sandbox.stats().inFlight === 0);
    expect(sandbox.stats()).toMatchObject({ hangs: 1, updates: 0 });
  });

  it('delays answers by latencyMs', async () => {
    const sandbox = await start({ createMissing: true, latencyMs: 250 });
    const began = performance.now();
    expect((await call('GET', updateUrl(sandbox, 'c', '&profile.n=1'))).status).toBe(200);
    expect(performance.now() - began).toBeGreaterThanOrEqual(240);
  });

  it('changes faults at run time and refuses invalid ones with a typed error', async () => {
    const sandbox = await start({ createMissing: true });
    sandbox.setFaults({ failRate: 1 });
    expect((await call('GET', updateUrl(sandbox, 'c', '&profile.n=1'))).status).toBe(503);
    expect(() => sandbox.setFaults({ failRate: 0.6, hangRate: 0.6 })).toThrow(ConfigError);
    expect((await call('GET', updateUrl(sandbox, 'c', '&profile.n=1'))).status).toBe(503);
  });

  it('refuses invalid start options with a typed error', async () => {
    await expect(start({ failRate: 1.5 })).rejects.toBeInstanceOf(ConfigError);
    await expect(start({ quota: 0 })).rejects.toThrow(/quota must be a positive integer/);
  });
});

describe('sandbox per-profile concurrency tracking', () => {
  it('sees three requests for one profile in flight together', async () => {
    const sandbox = await start({ createMissing: true, latencyMs: 150 });
    await Promise.all([1, 2, 3].map((n) => call('GET', updateUrl(sandbox, 'same', `&profile.n=${n}`))));
    expect(sandbox.stats()).toMatchObject({ maxConcurrentPerProfile: 3, maxInFlight: 3, inFlight: 0 });
  });

  it('sees one per profile when concurrent requests are for different profiles', async () => {
    const sandbox = await start({ createMissing: true, latencyMs: 150 });
    await Promise.all(['a', 'b', 'c'].map((id) => call('GET', updateUrl(sandbox, id, '&profile.n=1'))));
    await call('GET', updateUrl(sandbox, 'a', '&profile.n=2'));
    expect(sandbox.stats()).toMatchObject({ maxConcurrentPerProfile: 1, maxInFlight: 3 });
  });
});

describe('sandbox latency under load', () => {
  it('holds many delayed requests at once without leaking abort listeners', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const sandbox = await start({ createMissing: true, latencyMs: 50 });
      const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => call('GET', updateUrl(sandbox, `p-${i}`, '&profile.n=1'))));
      expect(replies.every((r) => r.status === 200)).toBe(true);
      // Node emits a warning on the next tick after its cause: one turn of the event loop lets it arrive.
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});

describe('sandbox refusals of single profiles', () => {
  it('refuses the updates of rejectIds for good (400) and applies the others', async () => {
    const sandbox = await start({ createMissing: true });
    sandbox.setFaults({ rejectIds: ['c-1'] });
    expect(await statuses(sandbox, 3)).toEqual([200, 400, 200]);
    expect(sandbox.profile('mbox3rdPartyId', 'c-1')).toBeUndefined();
    expect(sandbox.profile('mbox3rdPartyId', 'c-2')).toEqual({ n: '1' });
  });

  it('creates no profile for an update that carries no attribute, even with createMissing', async () => {
    const sandbox = await start({ createMissing: true });
    expect((await call('GET', updateUrl(sandbox, 'probe', ''))).status).toBe(200);
    expect(sandbox.profile('mbox3rdPartyId', 'probe')).toBeUndefined();
  });
});
