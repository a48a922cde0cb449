import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnmappableEventError } from '../../../connector/core/errors.js';
import type { IdentityKind, ProfileIdentity, ProfileUpdate, TargetRequest } from '../../../connector/core/profile.js';
import { startSandbox, type Sandbox } from '../../../connector/tools/sandbox/server.js';
import { createRequestBuilder, type RequestBuilderOptions } from '../../../connector/core/target-api/request-builder.js';
import { getJson, send } from '../../tools/sandbox/http-client.js';

const target: RequestBuilderOptions = {
  baseUrl: 'https://acme.tt.omtrdc.net/',
  pathTemplate: '/m2/{client_code}/profile/update',
  clientCode: 'acme',
};
const ENDPOINT = 'https://acme.tt.omtrdc.net/m2/acme/profile/update';
// Exactly what encodeURIComponent may emit: unreserved characters and %XX escapes.
const ENCODED = /^(?:[A-Za-z0-9\-_.!~*'()]|%[0-9A-F]{2})*$/;

/** Reads built requests back into one update, checking each is well-formed on the way. */
function decode(requests: TargetRequest[], endpoint: string): ProfileUpdate {
  const identities = new Set<string>();
  const attributes = new Map<string, string>();
  let identity: ProfileIdentity | undefined;
  for (const req of requests) {
    expect(req.url.startsWith(`${endpoint}?`)).toBe(true);
    const query = req.url.slice(endpoint.length + 1);
    const pairs = [...query.split('&'), ...(req.method === 'POST' ? (req.body ?? '').split('&') : [])];
    if (req.method === 'POST') expect(query.split('&')).toHaveLength(1);
    else expect(req.body).toBeUndefined();
    for (const pair of pairs) {
      const [name = '', value = '', ...rest] = pair.split('=');
      expect(rest).toEqual([]);
      expect(name).toMatch(ENCODED);
      expect(value).toMatch(ENCODED);
      const decodedName = decodeURIComponent(name);
      if (decodedName === 'mbox3rdPartyId' || decodedName === 'mboxPC') {
        identity = { kind: decodedName as IdentityKind, value: decodeURIComponent(value) };
        identities.add(`${decodedName}=${value}`);
        continue;
      }
      expect(decodedName.startsWith('profile.')).toBe(true);
      const attribute = decodedName.slice('profile.'.length);
      expect(attributes.has(attribute), `"${attribute}" sent twice`).toBe(false);
      attributes.set(attribute, decodeURIComponent(value));
    }
  }
  expect(identities.size).toBe(1);
  return { identity: identity as ProfileIdentity, attributes: Object.fromEntries(attributes) };
}

const unicode = (constraints: { minLength?: number; maxLength?: number; size?: fc.SizeForArbitrary } = {}) => fc.string({ unit: 'binary', ...constraints });
const identityArb = (maxLength: number) =>
  fc.record({
    kind: fc.constantFrom<IdentityKind>('mbox3rdPartyId', 'mboxPC'),
    value: unicode({ minLength: 1, maxLength }).filter((v) => !v.includes('+') && !v.includes('/')),
  });
/** Up to 30 attributes with values up to 3,000 code points: a mix of single GETs, POSTs and splits. */
const largeAttributesArb = (minLength: number) =>
  fc.dictionary(unicode({ minLength, maxLength: 20 }), unicode({ minLength, maxLength: 3000, size: 'large' }), {
    maxKeys: 30,
    size: 'medium',
  });

/** Counts which shape each build took, so a property can prove it exercised every branch. */
function shapeOf(requests: TargetRequest[]): string {
  if (requests.length === 0) return 'none';
  return requests.length === 1 ? (requests[0]?.method ?? '') : 'several POSTs';
}

describe('createRequestBuilder', () => {
  it('fills the client code into the path template', () => {
    expect(createRequestBuilder(target).endpoint).toBe(ENDPOINT);
    expect(createRequestBuilder({ ...target, pathTemplate: '/m2/client/profile/update' }).endpoint).toBe('https://acme.tt.omtrdc.net/m2/client/profile/update');
  });

  it('builds one GET with every name and value percent-encoded and profile. added once', () => {
    const requests = createRequestBuilder(target).build({
      identity: { kind: 'mbox3rdPartyId', value: 'Åsa 1' },
      attributes: { company: 'Malmö & Co', formula: '100% +1 = #1', 'profile.x': 'Göteborg/Åre', 'a b': '🎉' },
    });
    expect(requests).toEqual([
      {
        method: 'GET',
        url:
          `${ENDPOINT}?mbox3rdPartyId=%C3%85sa%201` +
          '&profile.company=Malm%C3%B6%20%26%20Co' +
          '&profile.formula=100%25%20%2B1%20%3D%20%231' +
          '&profile.profile.x=G%C3%B6teborg%2F%C3%85re' +
          '&profile.a%20b=%F0%9F%8E%89',
      },
    ]);
  });

  it('sends nothing for an update without attributes', () => {
    expect(createRequestBuilder(target).build({ identity: { kind: 'mboxPC', value: 'p' }, attributes: {} })).toEqual([]);
  });

  it('uses GET up to exactly the URL limit and POST one byte beyond', () => {
    const builder = createRequestBuilder(target);
    const prefix = `${ENDPOINT}?mbox3rdPartyId=c&profile.v=`;
    const fits = { identity: { kind: 'mbox3rdPartyId' as const, value: 'c' }, attributes: { v: 'x'.repeat(8192 - prefix.length) } };
    expect(builder.build(fits)).toEqual([{ method: 'GET', url: prefix + fits.attributes.v }]);
    const over = { ...fits, attributes: { v: `${fits.attributes.v}x` } };
    expect(builder.build(over)).toEqual([{ method: 'POST', url: `${ENDPOINT}?mbox3rdPartyId=c`, body: `profile.v=${over.attributes.v}` }]);
  });

  it('packs POST bodies greedily in attribute order', () => {
    const builder = createRequestBuilder({ ...target, maxGetUrlBytes: 100, maxPostBodyBytes: 30 });
    const requests = builder.build({
      identity: { kind: 'mboxPC', value: 'p' },
      attributes: { a: '1234567890', b: '1234567890', c: '12345678901234567890', d: '1' },
    });
    expect(requests.map((r) => r.body)).toEqual([
      'profile.a=1234567890', // with `&profile.b=...` it would be 41 bytes
      'profile.b=1234567890',
      'profile.c=12345678901234567890',
      'profile.d=1',
    ]);
  });

  it('refuses, without retry and without leaking the value, an attribute too large for any request', () => {
    const builder = createRequestBuilder({ ...target, maxPostBodyBytes: 100 });
    const build = () =>
      builder.build({
        identity: { kind: 'mbox3rdPartyId', value: 'c' },
        attributes: { ok: 'fine', notes: `secret-${'x'.repeat(9000)}` },
      });
    expect(build).toThrow(UnmappableEventError);
    expect(build).toThrow(/"notes" encodes to 9021 bytes, over the 100-byte POST body limit/);
    expect(build).not.toThrow(/secret/);
    try {
      build();
    } catch (err) {
      expect(err).toMatchObject({ retryable: false, code: 'UNMAPPABLE_EVENT' });
    }
  });

  it('refuses text that is not well-formed Unicode with a typed error', () => {
    const build = () => createRequestBuilder(target).build({ identity: { kind: 'mboxPC', value: 'p' }, attributes: { broken: 'a\uD800b' } });
    expect(build).toThrow(UnmappableEventError);
    expect(build).toThrow(/"broken" is not well-formed Unicode/);
  });

  it('refuses an identity that alone overflows the URL', () => {
    const builder = createRequestBuilder({ ...target, maxGetUrlBytes: 80 });
    expect(() => builder.build({ identity: { kind: 'mboxPC', value: 'p'.repeat(40) }, attributes: { a: '1' } })).toThrow(UnmappableEventError);
  });

  it('property: default limits, any Unicode — within limits and decodes to exactly the input', () => {
    const builder = createRequestBuilder(target);
    const shapes = new Set<string>();
    fc.assert(
      fc.property(identityArb(256), largeAttributesArb(0), (identity, attributes) => {
        fc.pre(identity.value.length <= 256);
        const requests = builder.build({ identity, attributes });
        shapes.add(shapeOf(requests));
        for (const req of requests) {
          expect(req.url.length).toBeLessThanOrEqual(8192);
          expect(req.body?.length ?? 0).toBeLessThanOrEqual(61440);
        }
        if (Object.keys(attributes).length === 0) expect(requests).toEqual([]);
        else expect(decode(requests, ENDPOINT)).toEqual({ identity, attributes });
      }),
      { numRuns: 200 },
    );
    expect([...shapes].sort()).toEqual(['GET', 'POST', 'none', 'several POSTs']);
  });

  it('property: tight limits — GET only when it fits, greedy POSTs within limits, or a typed refusal', () => {
    const maxGetUrlBytes = 200;
    const maxPostBodyBytes = 300;
    const builder = createRequestBuilder({ ...target, maxGetUrlBytes, maxPostBodyBytes });
    const shapes = new Set<string>();
    const attributesArb = fc.dictionary(unicode({ maxLength: 6 }), unicode({ maxLength: 30 }), { maxKeys: 12, size: 'large' });
    fc.assert(
      fc.property(identityArb(12), attributesArb, (identity, attributes) => {
        const update = { identity, attributes };
        const pairs = Object.entries(attributes).map(([n, v]) => `profile.${encodeURIComponent(n)}=${encodeURIComponent(v)}`);
        const identityUrl = `${ENDPOINT}?${identity.kind}=${encodeURIComponent(identity.value)}`;
        const fitsGet = pairs.length > 0 && `${identityUrl}&${pairs.join('&')}`.length <= maxGetUrlBytes;
        const sendable = fitsGet || pairs.length === 0 || (identityUrl.length <= maxGetUrlBytes && pairs.every((p) => p.length <= maxPostBodyBytes));
        if (!sendable) {
          expect(() => builder.build(update)).toThrow(UnmappableEventError);
          shapes.add('refused');
          return;
        }
        const requests = builder.build(update);
        shapes.add(shapeOf(requests));
        expect(builder.build(update)).toEqual(requests);
        if (pairs.length === 0) {
          expect(requests).toEqual([]);
          return;
        }
        expect(decode(requests, ENDPOINT)).toEqual(update);
        if (fitsGet) {
          expect(requests).toMatchObject([{ method: 'GET' }]);
          return;
        }
        const bodies = requests.map((r) => {
          expect(r).toMatchObject({ method: 'POST', url: identityUrl });
          return r.body ?? '';
        });
        // Attribute order is kept and no body could have taken the next one's first pair.
        expect(bodies.join('&')).toBe(pairs.join('&'));
        bodies.forEach((body, i) => {
          expect(body.length).toBeLessThanOrEqual(maxPostBodyBytes);
          const next = bodies[i + 1];
          if (next !== undefined) expect(body.length + 1 + (next.split('&')[0] ?? '').length).toBeGreaterThan(maxPostBodyBytes);
        });
      }),
      { numRuns: 500 },
    );
    expect([...shapes].sort()).toEqual(['GET', 'POST', 'none', 'refused', 'several POSTs']);
  });
});

describe('request builder against the sandbox', () => {
  let sandbox: Sandbox;
  let runs = 0;

  beforeAll(async () => {
    sandbox = await startSandbox({ clientCode: 'acme', createMissing: true, recordUpdates: false });
  });
  afterAll(() => sandbox.close());

  async function roundTrip(attributes: Record<string, string>): Promise<{ stored: unknown; requests: TargetRequest[] }> {
    const builder = createRequestBuilder({ baseUrl: sandbox.url, pathTemplate: '/m2/{client_code}/profile/update', clientCode: 'acme' });
    const id = `prop-${runs++}`;
    const requests = builder.build({ identity: { kind: 'mbox3rdPartyId', value: id }, attributes });
    for (const req of requests) expect(await send(req)).toMatchObject({ status: 200 });
    const { status, json } = await getJson(`${sandbox.url}/rest/v1/profiles/thirdPartyId/${id}?client=acme`);
    expect(status).toBe(200);
    const profileAttributes = (json as { profileAttributes: Record<string, { value: string }> }).profileAttributes;
    return {
      stored: Object.fromEntries(Object.entries(profileAttributes).map(([name, a]) => [name, a.value])),
      requests,
    };
  }

  it('property: the profile read back equals the attributes sent, by GET or split POSTs', async () => {
    const shapes = new Set<string>();
    await fc.assert(
      fc.asyncProperty(
        // Non-empty names and values: Target ignores empty ones, so they could not be read back.
        largeAttributesArb(1).filter((a) => Object.keys(a).length > 0),
        async (attributes) => {
          const { stored, requests } = await roundTrip(attributes);
          expect(stored).toEqual(attributes);
          shapes.add(shapeOf(requests));
        },
      ),
      // A fixed seed: 40 random cases miss the GET shape now and then, and the check below would flake.
      { numRuns: 40, seed: 20261129 },
    );
    expect([...shapes].sort()).toEqual(['GET', 'POST', 'several POSTs']);
  });

  it('splits a 700 KB update into several POSTs the sandbox accepts and stores whole', async () => {
    const attributes = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`field ${i} & ö`, `${i}:${'é'.repeat(3000)}`]));
    const { stored, requests } = await roundTrip(attributes);
    expect(stored).toEqual(attributes);
    expect(requests.length).toBeGreaterThan(10);
    expect(new Set(requests.map((r) => r.method))).toEqual(new Set(['POST']));
  });
});
