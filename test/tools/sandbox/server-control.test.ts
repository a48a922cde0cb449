import { describe, expect, it } from 'vitest';
import { call, getJson, postJson } from './http-client.js';
import { updateUrl, useSandboxes } from './sandbox-fixture.js';

const start = useSandboxes();

describe('sandbox control endpoints', () => {
  it('lists accepted updates in arrival order with identity, attributes, method and index', async () => {
    const sandbox = await start({ createMissing: true });
    await call('GET', updateUrl(sandbox, 'a', '&profile.n=1'));
    await call('POST', updateUrl(sandbox, 'b'), { body: 'profile.n=2' });
    await call('GET', updateUrl(sandbox, 'x+y', '&profile.n=rejected'));
    await call('POST', `${sandbox.url}/m2/acme/profile/update`, { body: 'mboxPC=pc.1&profile.n=3' });
    await call('GET', updateUrl(sandbox, 'a', '&profile.n=4'));

    const { json } = await getJson(`${sandbox.url}/_sandbox/updates`);
    expect(json).toMatchObject({
      total: 4,
      updates: [
        { index: 0, identity: { kind: 'mbox3rdPartyId', value: 'a' }, attributes: { n: '1' }, method: 'GET', applied: true },
        { index: 1, identity: { kind: 'mbox3rdPartyId', value: 'b' }, attributes: { n: '2' }, method: 'POST' },
        { index: 2, identity: { kind: 'mboxPC', value: 'pc.1' }, attributes: { n: '3' }, method: 'POST' },
        { index: 3, identity: { kind: 'mbox3rdPartyId', value: 'a' }, attributes: { n: '4' }, method: 'GET' },
      ],
    });
    const times = (json as { updates: { receivedAt: string }[] }).updates.map((u) => Date.parse(u.receivedAt));
    expect(times).toEqual([...times].sort((x, y) => x - y));

    const onlyA = await getJson(`${sandbox.url}/_sandbox/updates?mbox3rdPartyId=a`);
    expect((onlyA.json as { updates: { index: number }[] }).updates.map((u) => u.index)).toEqual([0, 3]);
    const page = await getJson(`${sandbox.url}/_sandbox/updates?from=1&limit=2`);
    expect((page.json as { updates: { index: number }[] }).updates.map((u) => u.index)).toEqual([1, 2]);
    expect((await call('GET', `${sandbox.url}/_sandbox/updates?limit=-1`)).status).toBe(400);
  });

  it('counts answers by status', async () => {
    const sandbox = await start();
    sandbox.seedProfile({ kind: 'mbox3rdPartyId', value: 'known' });
    await call('GET', updateUrl(sandbox, 'known', '&profile.n=1'));
    await call('GET', updateUrl(sandbox, 'unknown', '&profile.n=1'));
    await call('GET', `${sandbox.url}/m2/acme/profile/update?profile.n=1`);
    await call('GET', `${sandbox.url}/m2/zzz/profile/update?mbox3rdPartyId=a`);
    const { json } = await getJson(`${sandbox.url}/_sandbox/stats`);
    expect(json).toEqual({
      requests: 4,
      byStatus: { '200': 2, '400': 1, '404': 1 },
      resets: 0,
      hangs: 0,
      updates: 2,
      applied: 1,
      ignored: 1,
      profiles: 1,
      inFlight: 0,
      maxInFlight: 1,
      maxConcurrentPerProfile: 1,
      bulkRequests: 0,
      bulkByStatus: {},
      bulkResets: 0,
      bulkHangs: 0,
      bulkStatusPolls: 0,
      bulkCallsRefused: 0,
      bulkBatches: 0,
      bulkBatchesApplied: 0,
      bulkRowsPending: 0,
      bulkRowsSucceeded: 0,
      bulkRowsFailed: 0,
      bulkBytes: 0,
      bulkOrderViolations: 0,
      deliveryRequests: 0,
      deliveryByStatus: {},
      deliveryResets: 0,
      deliveryHangs: 0,
      maxConcurrentPerSession: 0,
      byRoute: { single: 4, bulk: 0, realtime: 0 },
    });
  });

  it('seeds profiles over HTTP so update-only mode applies updates to them', async () => {
    const sandbox = await start();
    const seeded = await postJson(`${sandbox.url}/_sandbox/profiles`, [{ mbox3rdPartyId: 'c-1', attributes: { tier: 'gold' } }, { mboxPC: 'pc.2' }]);
    expect(seeded).toMatchObject({ status: 200, text: '{"seeded":2}' });
    await call('GET', updateUrl(sandbox, 'c-1', '&profile.city=Lund'));
    await call('GET', `${sandbox.url}/m2/acme/profile/update?mboxPC=pc.2&profile.city=Ystad`);
    expect(sandbox.profile('mbox3rdPartyId', 'c-1')).toEqual({ tier: 'gold', city: 'Lund' });
    expect(sandbox.profile('mboxPC', 'pc.2')).toEqual({ city: 'Ystad' });
  });

  it('refuses invalid profile seeds with every problem', async () => {
    const sandbox = await start();
    const reply = await postJson(`${sandbox.url}/_sandbox/profiles`, [{ attributes: {} }, { mbox3rdPartyId: 'a/b' }]);
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.text)).toEqual({
      problems: ['/0 needs exactly one of mbox3rdPartyId or mboxPC', '/1/mbox3rdPartyId: contains + or /'],
    });
    expect((await postJson(`${sandbox.url}/_sandbox/profiles`, { mbox3rdPartyId: 'a', attributes: { n: 1 } })).status).toBe(400);
    expect(sandbox.stats().profiles).toBe(0);
  });

  it('changes faults over HTTP and refuses invalid ones', async () => {
    const sandbox = await start({ createMissing: true });
    const changed = await postJson(`${sandbox.url}/_sandbox/faults`, { rate429: 1, retryAfterSeconds: 3 });
    expect(JSON.parse(changed.text)).toMatchObject({ rate429: 1, retryAfterSeconds: 3, failRate: 0 });
    const throttled = await call('GET', updateUrl(sandbox, 'c', '&profile.n=1'));
    expect(throttled).toMatchObject({ status: 429, headers: { 'retry-after': '3' } });

    const invalid = await postJson(`${sandbox.url}/_sandbox/faults`, { failRate: 'often' });
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.text)).toEqual({ problems: ['/failRate must be number'] });
    expect((await getJson(`${sandbox.url}/_sandbox/faults`)).json).toMatchObject({ rate429: 1, failRate: 0 });
  });

  it('resets profiles, updates, counters, quota and faults to how the sandbox started', async () => {
    const sandbox = await start({ createMissing: true, quota: 1, failRate: 0 });
    await call('GET', updateUrl(sandbox, 'c', '&profile.n=1'));
    sandbox.setFaults({ hangRate: 0.5 });
    expect((await call('POST', `${sandbox.url}/_sandbox/reset`)).status).toBe(204);

    expect(sandbox.updates()).toEqual([]);
    expect(sandbox.profile('mbox3rdPartyId', 'c')).toBeUndefined();
    expect(sandbox.stats()).toMatchObject({ requests: 0, updates: 0, profiles: 0, maxInFlight: 0, byStatus: {} });
    expect((await getJson(`${sandbox.url}/_sandbox/faults`)).json).toMatchObject({ hangRate: 0 });
    // The quota of 1 was spent before the reset; a fresh budget accepts again, restarting indexes.
    expect((await call('GET', updateUrl(sandbox, 'c', '&profile.n=2'))).status).toBe(200);
    expect(sandbox.updates()).toMatchObject([{ index: 0, attributes: { n: '2' } }]);
  });

  it('keeps only final profiles and counters with recordUpdates false', async () => {
    const sandbox = await start({ createMissing: true, recordUpdates: false });
    await call('GET', updateUrl(sandbox, 'c', '&profile.n=1'));
    await call('GET', updateUrl(sandbox, 'c', '&profile.n=2'));
    expect(sandbox.updates()).toEqual([]);
    expect((await getJson(`${sandbox.url}/_sandbox/updates`)).json).toEqual({ total: 2, updates: [] });
    expect(sandbox.profile('mbox3rdPartyId', 'c')).toEqual({ n: '2' });
  });

  it('answers 404 for unknown paths', async () => {
    const sandbox = await start();
    expect((await call('GET', `${sandbox.url}/_sandbox/nothing`)).status).toBe(404);
    expect((await call('GET', `${sandbox.url}/m2/acme/profile/update/extra`)).status).toBe(404);
  });
});
