import { describe, expect, it } from 'vitest';
import { call, getJson } from './http-client.js';
import { profileParams, updateUrl, useSandboxes } from './sandbox-fixture.js';

const start = useSandboxes();
const TRUE_BODY = 'trueRequest successfully submitted';

const tricky = {
  company: 'Malmö & Co',
  formula: '100% +1 = #1',
  route: 'Göteborg/Åre',
  emoji: '🎉 👍🏽 👨‍👩‍👧',
};

describe('sandbox update endpoint', () => {
  it('round-trips tricky values and a 5,000-character value by GET', async () => {
    const sandbox = await start({ createMissing: true });
    const attributes = { ...tricky, long: 'abcdefghij'.repeat(500) };
    const reply = await call('GET', updateUrl(sandbox, 'c-get', profileParams(attributes)));
    expect(reply).toMatchObject({ status: 200, text: TRUE_BODY });

    const { status, json } = await getJson(`${sandbox.url}/rest/v1/profiles/thirdPartyId/c-get?client=acme`);
    expect(status).toBe(200);
    const stored = (json as { profileAttributes: Record<string, { value: string; modifiedAt: string }> }).profileAttributes;
    expect(Object.fromEntries(Object.entries(stored).map(([n, a]) => [n, a.value]))).toEqual(attributes);
    expect(new Date(stored.company?.modifiedAt ?? '').getTime()).not.toBeNaN();
  });

  it('round-trips tricky values and a 5,000-character non-ASCII value by POST', async () => {
    const sandbox = await start({ createMissing: true });
    const long = [...'Göteborg/Åre 🎉 100% +1 & '.repeat(300)].slice(0, 5000).join('');
    const attributes = { ...tricky, long };
    const body = profileParams(attributes).slice(1);
    const reply = await call('POST', updateUrl(sandbox, 'c-post'), { body });
    expect(reply).toMatchObject({ status: 200, text: TRUE_BODY });
    expect(sandbox.profile('mbox3rdPartyId', 'c-post')).toEqual(attributes);
    expect([...(sandbox.profile('mbox3rdPartyId', 'c-post')?.long ?? '')]).toHaveLength(5000);
  });

  it('accepts the identity inside a POST body and the literal /m2/client/ path', async () => {
    const sandbox = await start({ createMissing: true });
    const reply = await call('POST', `${sandbox.url}/m2/client/profile/update`, { body: 'mboxPC=pc.7&profile.a=1' });
    expect(reply.status).toBe(200);
    expect(sandbox.profile('mboxPC', 'pc.7')).toEqual({ a: '1' });
  });

  it('answers 414 for a GET URL one byte over 8 KB, and accepts exactly 8 KB', async () => {
    const sandbox = await start({ createMissing: true });
    const prefix = updateUrl(sandbox, 'c', '&profile.v=');
    const exact = prefix + 'x'.repeat(8192 - prefix.length);
    expect((await call('GET', exact)).status).toBe(200);
    expect((await call('GET', `${exact}x`)).status).toBe(414);
    // Well past Node's default header cap: still the API's 414, not a 431 from the HTTP parser.
    expect((await call('GET', prefix + 'x'.repeat(20_000))).status).toBe(414);
    expect(sandbox.profile('mbox3rdPartyId', 'c')?.v).toHaveLength(8192 - prefix.length);
  });

  it('answers 413 for a POST body one byte over 60 KB, and accepts exactly 60 KB', async () => {
    const sandbox = await start({ createMissing: true });
    const exact = `profile.v=${'x'.repeat(61440 - 'profile.v='.length)}`;
    expect((await call('POST', updateUrl(sandbox, 'c'), { body: exact })).status).toBe(200);
    expect((await call('POST', updateUrl(sandbox, 'c'), { body: `${exact}x` })).status).toBe(413);
    expect(sandbox.stats().byStatus).toEqual({ '200': 1, '413': 1 });
  });

  it.each([
    ['no identity', '/m2/acme/profile/update?profile.a=1'],
    ['an empty identity', '/m2/acme/profile/update?mbox3rdPartyId=&profile.a=1'],
    ['an identity with +', '/m2/acme/profile/update?mbox3rdPartyId=a%2Bb&profile.a=1'],
    ['an identity with /', '/m2/acme/profile/update?mbox3rdPartyId=a%2Fb&profile.a=1'],
    ['a 257-character identity', `/m2/acme/profile/update?mbox3rdPartyId=${'i'.repeat(257)}&profile.a=1`],
  ])('answers 400 for %s and records nothing', async (_case, path) => {
    const sandbox = await start({ createMissing: true });
    expect((await call('GET', sandbox.url + path)).status).toBe(400);
    expect(sandbox.updates()).toEqual([]);
    expect(sandbox.stats().profiles).toBe(0);
  });

  it('answers 404 for another client code and 415 for a body that is not form-encoded', async () => {
    const sandbox = await start({ createMissing: true });
    expect((await call('GET', `${sandbox.url}/m2/other/profile/update?mbox3rdPartyId=c&profile.a=1`)).status).toBe(404);
    const plain = await call('POST', updateUrl(sandbox, 'c'), { body: 'profile.a=1', contentType: 'text/plain;charset=UTF-8' });
    expect(plain.status).toBe(415);
    expect(sandbox.stats().byStatus).toEqual({ '404': 1, '415': 1 });
  });

  it('ignores updates for unknown profiles without --create-missing, as Target does', async () => {
    const sandbox = await start();
    const reply = await call('GET', updateUrl(sandbox, 'ghost', '&profile.a=1'));
    expect(reply).toMatchObject({ status: 200, text: TRUE_BODY });
    expect(sandbox.profile('mbox3rdPartyId', 'ghost')).toBeUndefined();
    expect((await getJson(`${sandbox.url}/rest/v1/profiles/thirdPartyId/ghost?client=acme`)).status).toBe(404);
    expect(sandbox.updates()).toMatchObject([{ identity: { value: 'ghost' }, applied: false }]);
    expect(sandbox.stats()).toMatchObject({ updates: 1, applied: 0, ignored: 1 });
  });

  it('updates pre-seeded profiles in update-only mode, keeping the seeded attributes', async () => {
    const sandbox = await start();
    sandbox.seedProfile({ kind: 'mbox3rdPartyId', value: 'known' }, { tier: 'gold' });
    await call('GET', updateUrl(sandbox, 'known', '&profile.city=Lund'));
    expect(sandbox.profile('mbox3rdPartyId', 'known')).toEqual({ tier: 'gold', city: 'Lund' });
    expect(sandbox.updates()).toMatchObject([{ applied: true }]);
  });
});

describe('sandbox profile read-back', () => {
  it('serves mboxPC profiles at /rest/v1/profiles/<pcId>', async () => {
    const sandbox = await start({ createMissing: true });
    await call('GET', `${sandbox.url}/m2/acme/profile/update?mboxPC=pc.1_0&profile.a=%C3%A5`);
    const { status, json } = await getJson(`${sandbox.url}/rest/v1/profiles/pc.1_0?client=acme`);
    expect(status).toBe(200);
    expect(json).toMatchObject({ profileAttributes: { a: { value: 'å' } } });
    // Kinds are separate namespaces.
    expect((await getJson(`${sandbox.url}/rest/v1/profiles/thirdPartyId/pc.1_0?client=acme`)).status).toBe(404);
  });

  it('requires the right client', async () => {
    const sandbox = await start({ createMissing: true });
    await call('GET', updateUrl(sandbox, 'c', '&profile.a=1'));
    expect((await getJson(`${sandbox.url}/rest/v1/profiles/thirdPartyId/c`)).status).toBe(400);
    expect((await getJson(`${sandbox.url}/rest/v1/profiles/thirdPartyId/c?client=other`)).status).toBe(404);
    expect((await getJson(`${sandbox.url}/rest/v1/profiles/thirdPartyId/c?client=acme`)).status).toBe(200);
  });

  it('decodes a percent-encoded id in the path', async () => {
    const sandbox = await start({ createMissing: true });
    await call('GET', updateUrl(sandbox, 'Åsa Öberg', '&profile.a=1'));
    const id = encodeURIComponent('Åsa Öberg');
    expect((await getJson(`${sandbox.url}/rest/v1/profiles/thirdPartyId/${id}?client=acme`)).status).toBe(200);
  });
});
