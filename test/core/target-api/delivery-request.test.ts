import { describe, expect, it } from 'vitest';
import { UnmappableEventError } from '../../../connector/core/errors.js';
import type { ProfileUpdate } from '../../../connector/core/profile.js';
import { createDeliveryRequestBuilder, deliverySessionId, type DeliveryRequestOptions } from '../../../connector/core/target-api/delivery-request.js';

const OPTIONS: DeliveryRequestOptions = {
  baseUrl: 'https://acme.tt.omtrdc.net/',
  path: '/rest/v1/delivery',
  clientCode: 'acme',
  mbox: 'target-profile-sink',
  channel: 'web',
};

function update(value: string, attributes: Record<string, string>, kind: ProfileUpdate['identity']['kind'] = 'mbox3rdPartyId'): ProfileUpdate {
  return { identity: { kind, value }, attributes };
}

/** Every profile parameter of a list of calls, in call order. */
function parametersOf(bodies: string[]): Array<[string, string]> {
  return bodies.flatMap((body) => {
    const parsed = JSON.parse(body) as { execute: { mboxes: Array<{ profileParameters: Record<string, string> }> } };
    return Object.entries(parsed.execute.mboxes[0]?.profileParameters ?? {});
  });
}

describe('createDeliveryRequestBuilder', () => {
  it('builds the exact URL and body of one call: thirdPartyId, channel, mbox 0 with string profile parameters', () => {
    const builder = createDeliveryRequestBuilder(OPTIONS);
    const [call, ...rest] = builder.build(update('C-1', { tier: 'gold', points: '120' }));
    expect(rest).toEqual([]);
    const sessionId = deliverySessionId({ kind: 'mbox3rdPartyId', value: 'C-1' });
    expect(call).toEqual({
      method: 'POST',
      url: `https://acme.tt.omtrdc.net/rest/v1/delivery?client=acme&sessionId=${sessionId}`,
      sessionId,
      body: '{"id":{"thirdPartyId":"C-1"},"context":{"channel":"web"},"execute":{"mboxes":[{"index":0,"name":"target-profile-sink","profileParameters":{"tier":"gold","points":"120"}}]}}',
    });
    expect(builder.endpoint).toBe('https://acme.tt.omtrdc.net/rest/v1/delivery');
  });

  it('sends an mboxPC identity as tntId', () => {
    const [call] = createDeliveryRequestBuilder(OPTIONS).build(update('1368007744041-575948.01_00', { a: '1' }, 'mboxPC'));
    expect(JSON.parse(call?.body ?? '')).toMatchObject({ id: { tntId: '1368007744041-575948.01_00' } });
  });

  it('encodes the client code and session id in the query and replaces {client_code} in the path', () => {
    const builder = createDeliveryRequestBuilder({ ...OPTIONS, clientCode: 'a&b c', path: 'x/{client_code}/delivery' });
    const [call] = builder.build(update('C', { a: '1' }));
    expect(call?.url.startsWith('https://acme.tt.omtrdc.net/x/a%26b%20c/delivery?client=a%26b%20c&sessionId=tps-')).toBe(true);
  });

  it('round-trips names and values with & % + quotes, backslashes, newlines, Swedish and emoji through JSON', () => {
    const attributes = {
      'a&b': 'x&y=z',
      'per%cent': '100%25',
      'plus+': 'a+b c',
      'quote"s': 'say "hi" \'there\'',
      back: 'C:\\path\\',
      lines: 'one\ntwo\r\nthree\t',
      ört: 'blåbär ä ö Å Ä Ö',
      emoji: '🦄👍🏽',
      empty: '',
      control: '\u0000\u001f',
    };
    const [call] = createDeliveryRequestBuilder(OPTIONS).build(update('Åsa "O\'Brien" & 🦄', attributes));
    const parsed = JSON.parse(call?.body ?? '') as { id: { thirdPartyId: string }; execute: { mboxes: Array<{ profileParameters: Record<string, string> }> } };
    expect(parsed.id.thirdPartyId).toBe('Åsa "O\'Brien" & 🦄');
    expect(parsed.execute.mboxes[0]?.profileParameters).toEqual(attributes);
    expect(call?.body).not.toMatch(/[\n\r\t]/);
  });

  it('builds nothing for an update without attributes', () => {
    expect(createDeliveryRequestBuilder(OPTIONS).build(update('C', {}))).toEqual([]);
  });

  it('splits an attribute set over the body limit into several calls of one session, in order, each attribute exactly once', () => {
    const maxBodyBytes = 1024;
    const builder = createDeliveryRequestBuilder({ ...OPTIONS, maxBodyBytes });
    const attributes: Record<string, string> = {};
    for (let i = 0; i < 60; i++) attributes[`attr_${i}`] = `${'å'.repeat(i % 7)}värde-${i}-🦄`;
    const calls = builder.build(update('C-9', attributes));
    expect(calls.length).toBeGreaterThan(2);
    for (const call of calls) {
      expect(Buffer.byteLength(call.body)).toBeLessThanOrEqual(maxBodyBytes);
      expect(call.sessionId).toBe(calls[0]?.sessionId);
      expect(call.url).toBe(calls[0]?.url);
    }
    expect(parametersOf(calls.map((c) => c.body))).toEqual(Object.entries(attributes));
  });

  it('fills a call up to exactly the limit', () => {
    const one = createDeliveryRequestBuilder(OPTIONS).build(update('C', { a: 'x', b: 'y' }));
    const exact = Buffer.byteLength(one[0]?.body ?? '');
    expect(createDeliveryRequestBuilder({ ...OPTIONS, maxBodyBytes: exact }).build(update('C', { a: 'x', b: 'y' }))).toHaveLength(1);
    expect(createDeliveryRequestBuilder({ ...OPTIONS, maxBodyBytes: exact - 1 }).build(update('C', { a: 'x', b: 'y' }))).toHaveLength(2);
  });

  it('rejects a single attribute that cannot fit, an identity that leaves no room, and lone surrogates', () => {
    const builder = createDeliveryRequestBuilder({ ...OPTIONS, maxBodyBytes: 300 });
    expect(() => builder.build(update('C', { big: 'ä'.repeat(200) }))).toThrow(UnmappableEventError);
    expect(() => builder.build(update('C'.repeat(300), { a: '1' }))).toThrow(/identity makes the Delivery call/);
    expect(() => builder.build(update('C', { a: 'x\ud800y' }))).toThrow(/not well-formed Unicode/);
    expect(() => builder.build(update('C\udc00', { a: '1' }))).toThrow(/not well-formed Unicode/);
  });

  it('builds the bare call of check: no profile parameter', () => {
    const call = createDeliveryRequestBuilder(OPTIONS).bare({ kind: 'mbox3rdPartyId', value: 'target-profile-sink-check' });
    expect(JSON.parse(call.body)).toEqual({
      id: { thirdPartyId: 'target-profile-sink-check' },
      context: { channel: 'web' },
      execute: { mboxes: [{ index: 0, name: 'target-profile-sink', profileParameters: {} }] },
    });
  });
});

describe('deliverySessionId', () => {
  it('is stable for one profile and known for a fixed input', () => {
    const id = { kind: 'mbox3rdPartyId', value: 'C-1' } as const;
    expect(deliverySessionId(id)).toBe(deliverySessionId({ ...id }));
    expect(deliverySessionId(id)).toMatch(/^tps-[0-9a-f]{16}$/);
    expect(deliverySessionId({ kind: 'mboxPC', value: 'ä🦄' })).toBe(deliverySessionId({ kind: 'mboxPC', value: 'ä🦄' }));
  });

  it('tells identity kinds apart and spreads profiles over distinct sessions', () => {
    expect(deliverySessionId({ kind: 'mbox3rdPartyId', value: 'X' })).not.toBe(deliverySessionId({ kind: 'mboxPC', value: 'X' }));
    const ids = new Set<string>();
    for (let i = 0; i < 20_000; i++) ids.add(deliverySessionId({ kind: 'mbox3rdPartyId', value: `customer-${i}` }));
    expect(ids.size).toBe(20_000);
    // Every hex digit position varies: the ids are spread, not sharing a long common prefix.
    const sample = [...ids].slice(0, 200);
    for (let pos = 4; pos < 20; pos++) expect(new Set(sample.map((s) => s[pos])).size).toBeGreaterThan(8);
  });

  it('hashes the UTF-8 bytes: FNV-1a then fmix32, as computed independently here', () => {
    const bytes = Buffer.from('mboxPC:ä🦄', 'utf8');
    let h = 0x811c9dc5;
    for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h = (h ^ (h >>> 16)) >>> 0;
    expect(deliverySessionId({ kind: 'mboxPC', value: 'ä🦄' }).slice(4, 12)).toBe(h.toString(16).padStart(8, '0'));
  });
});
