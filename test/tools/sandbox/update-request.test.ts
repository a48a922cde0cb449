import { describe, expect, it } from 'vitest';
import { parseUpdateRequest } from '../../../connector/tools/sandbox/update-request.js';
import { MAX_GET_URL_BYTES, MAX_POST_BODY_BYTES } from '../../../connector/core/target-api/limits.js';

const get = (query: string, urlBytes = 100) => parseUpdateRequest({ method: 'GET', urlBytes, query });
const post = (query: string, body: string, contentType = 'application/x-www-form-urlencoded') =>
  parseUpdateRequest({ method: 'POST', urlBytes: 100, query, body, contentType });

describe('parseUpdateRequest', () => {
  it('reads the identity and profile.* parameters, percent-decoded as UTF-8', () => {
    expect(get('mbox3rdPartyId=c-1&profile.city=Malm%C3%B6%20%26%20Co&mboxSession=x')).toEqual({
      ok: true,
      identity: { kind: 'mbox3rdPartyId', value: 'c-1' },
      attributes: { city: 'Malmö & Co' },
    });
  });

  it('decodes a form body with x-www-form-urlencoded rules: + is a space, %2B a plus', () => {
    const parsed = post('mboxPC=pc.1', 'profile.a=1+2&profile.b=1%2B2');
    expect(parsed).toEqual({ ok: true, identity: { kind: 'mboxPC', value: 'pc.1' }, attributes: { a: '1 2', b: '1+2' } });
  });

  it('accepts the identity in a POST body, and lets the body win over the query on repeats', () => {
    expect(post('profile.tier=silver', 'mbox3rdPartyId=c-2&profile.tier=gold')).toMatchObject({
      ok: true,
      identity: { kind: 'mbox3rdPartyId', value: 'c-2' },
      attributes: { tier: 'gold' },
    });
  });

  it('drops empty values and empty names, which cannot clear anything in Target', () => {
    expect(get('mbox3rdPartyId=c&profile.a=&profile.=x&profile.b=1')).toMatchObject({ attributes: { b: '1' } });
  });

  it.each([
    ['profile.a=1', 'missing mbox3rdPartyId or mboxPC'],
    ['mbox3rdPartyId=&profile.a=1', 'invalid mbox3rdPartyId: empty'],
    [`mbox3rdPartyId=${'x'.repeat(257)}`, 'invalid mbox3rdPartyId: longer than 256 characters'],
    ['mbox3rdPartyId=a%2Bb', 'invalid mbox3rdPartyId: contains + or /'],
    ['mbox3rdPartyId=a%2Fb', 'invalid mbox3rdPartyId: contains + or /'],
    ['mbox3rdPartyId=a&mboxPC=b', 'exactly one mbox3rdPartyId or mboxPC is allowed'],
  ])('rejects %s with 400', (query, message) => {
    expect(get(query)).toEqual({ ok: false, status: 400, message });
  });

  it('accepts an identity of exactly 256 characters', () => {
    expect(get(`mbox3rdPartyId=${'x'.repeat(256)}`)).toMatchObject({ ok: true });
  });

  it('answers 414 only above the URL limit', () => {
    expect(get('mbox3rdPartyId=c', MAX_GET_URL_BYTES)).toMatchObject({ ok: true });
    expect(get('mbox3rdPartyId=c', MAX_GET_URL_BYTES + 1)).toMatchObject({ ok: false, status: 414 });
  });

  it('answers 413 for a body the reader flagged as too large', () => {
    const parsed = parseUpdateRequest({ method: 'POST', urlBytes: 10, query: 'mbox3rdPartyId=c', body: '', bodyTooLarge: true });
    expect(parsed).toEqual({ ok: false, status: 413, message: `body is over ${MAX_POST_BODY_BYTES} bytes` });
  });

  it('answers 415 for a POST body that is not form-encoded', () => {
    expect(post('mbox3rdPartyId=c', 'profile.a=1', 'text/plain;charset=UTF-8')).toMatchObject({ ok: false, status: 415 });
    expect(post('mbox3rdPartyId=c', 'profile.a=1', 'application/x-www-form-urlencoded; charset=UTF-8')).toMatchObject({
      ok: true,
    });
  });

  it('keeps attributes named like Object.prototype members as plain data', () => {
    const parsed = get('mbox3rdPartyId=c&profile.__proto__=x&profile.constructor=y');
    expect(parsed.ok && Object.keys(parsed.attributes)).toEqual(['__proto__', 'constructor']);
  });
});
