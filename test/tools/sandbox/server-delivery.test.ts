import { afterAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { createDeliveryRequestBuilder, type DeliveryRequest } from '../../../connector/core/target-api/delivery-request.js';
import type { Sandbox } from '../../../connector/tools/sandbox/server.js';
import { call, getJson, type Reply } from './http-client.js';
import { updateUrl, useSandboxes } from './sandbox-fixture.js';

const start = useSandboxes();

function builderFor(sandbox: Sandbox) {
  return createDeliveryRequestBuilder({ baseUrl: sandbox.url, path: '/rest/v1/delivery', clientCode: 'acme', mbox: 'target-profile-sink', channel: 'web' });
}

function deliveryUrl(sandbox: Sandbox, query = 'client=acme&sessionId=s-1'): string {
  return `${sandbox.url}/rest/v1/delivery?${query}`;
}

// One connection per concurrent call, so that 101 calls reach the sandbox at once.
const agent = new Agent({ connections: 256, pipelining: 1 });
afterAll(() => agent.close());

function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return request(url, {
    dispatcher: agent,
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  }).then(async (res) => ({ status: res.statusCode, text: await res.body.text(), headers: res.headers }));
}

function send(req: DeliveryRequest, headers: Record<string, string> = {}): Promise<Reply> {
  return post(req.url, req.body, headers);
}

const VALID = {
  id: { thirdPartyId: 'C-1' },
  context: { channel: 'web' },
  execute: { mboxes: [{ index: 0, name: 'target-profile-sink', profileParameters: { tier: 'gold' } }] },
};

describe('sandbox Delivery API', () => {
  it('applies profile parameters at once, creating the profile, and answers JSON like Target', async () => {
    const sandbox = await start();
    const [req] = builderFor(sandbox).build({ identity: { kind: 'mbox3rdPartyId', value: 'Åsa & 🦄' }, attributes: { ört: 'blåbär', quote: 'a "b"' } });
    const reply = await send(req as DeliveryRequest);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(reply.text)).toEqual({
      status: 200,
      requestId: 'sandbox-1',
      client: 'acme',
      id: { thirdPartyId: 'Åsa & 🦄' },
      edgeHost: 'mboxedge-sandbox.tt.omtrdc.net',
      execute: { mboxes: [{ index: 0, name: 'target-profile-sink' }] },
    });
    expect(sandbox.profile('mbox3rdPartyId', 'Åsa & 🦄')).toEqual({ ört: 'blåbär', quote: 'a "b"' });
    const readBack = await getJson(`${sandbox.url}/rest/v1/profiles/thirdPartyId/${encodeURIComponent('Åsa & 🦄')}?client=acme`);
    expect(readBack.json).toMatchObject({ profileAttributes: { ört: { value: 'blåbär' } } });
  });

  it('sends tntId identities to the mboxPC profile', async () => {
    const sandbox = await start();
    const [req] = builderFor(sandbox).build({ identity: { kind: 'mboxPC', value: 'pc.1' }, attributes: { a: '1' } });
    expect((await send(req as DeliveryRequest)).status).toBe(200);
    expect(sandbox.profile('mboxPC', 'pc.1')).toEqual({ a: '1' });
  });

  it('logs realtime calls with route realtime, in arrival order among single updates', async () => {
    const sandbox = await start({ createMissing: true });
    const builder = builderFor(sandbox);
    await call('GET', updateUrl(sandbox, 'C-1', '&profile.n=1'));
    await send(builder.build({ identity: { kind: 'mbox3rdPartyId', value: 'C-1' }, attributes: { n: '2' } })[0] as DeliveryRequest);
    await call('GET', updateUrl(sandbox, 'C-1', '&profile.n=3'));
    expect(sandbox.updates().map((u) => [u.route, u.method, u.attributes['n']])).toEqual([
      ['single', 'GET', '1'],
      ['realtime', 'DELIVERY', '2'],
      ['single', 'GET', '3'],
    ]);
    expect(sandbox.profile('mbox3rdPartyId', 'C-1')).toEqual({ n: '3' });
    expect(sandbox.stats().byRoute).toEqual({ single: 2, bulk: 0, realtime: 1 });
  });

  it.each([
    ['no client', 'sessionId=s-1', VALID, 400, 'the client query parameter is required'],
    ['another client', 'client=other&sessionId=s-1', VALID, 404, 'unknown client code "other"'],
    ['no session', 'client=acme', VALID, 400, 'the sessionId query parameter is required'],
    ['no id', 'client=acme&sessionId=s', { ...VALID, id: {} }, 400, 'id.thirdPartyId or id.tntId is required'],
    ['both ids', 'client=acme&sessionId=s', { ...VALID, id: { thirdPartyId: 'a', tntId: 'b' } }, 400, 'send either id.thirdPartyId or id.tntId, not both'],
    ['bad id', 'client=acme&sessionId=s', { ...VALID, id: { thirdPartyId: 'a/b' } }, 400, 'invalid id.thirdPartyId: contains + or /'],
    ['no channel', 'client=acme&sessionId=s', { ...VALID, context: {} }, 400, 'context.channel is required'],
    ['bad channel', 'client=acme&sessionId=s', { ...VALID, context: { channel: 'tv' } }, 400, 'context.channel must be one of web, mobile'],
    ['no mbox', 'client=acme&sessionId=s', { ...VALID, execute: { mboxes: [] } }, 400, 'the call names no mbox (execute.mboxes or prefetch.mboxes)'],
    [
      'blank mbox',
      'client=acme&sessionId=s',
      { ...VALID, execute: { mboxes: [{ index: 0, name: ' ' }] } },
      400,
      'execute.mboxes[0].name must be a non-empty string',
    ],
    [
      'bad mbox',
      'client=acme&sessionId=s',
      { ...VALID, execute: { mboxes: [{ index: 0, name: 'a<b' }] } },
      400,
      'execute.mboxes[0].name "a<b" holds a character mbox names must not hold',
    ],
    [
      'number value',
      'client=acme&sessionId=s',
      { ...VALID, execute: { mboxes: [{ index: 0, name: 'm', profileParameters: { a: 1 } }] } },
      400,
      'execute.mboxes[0].profileParameters.a must be a string',
    ],
    ['not JSON', 'client=acme&sessionId=s', '{', 400, 'the body is not JSON'],
  ])('refuses a call with %s, in JSON with the message, applying nothing', async (_name, query, body, status, message) => {
    const sandbox = await start();
    const reply = await post(deliveryUrl(sandbox, query), body);
    expect(reply.status).toBe(status);
    expect(JSON.parse(reply.text)).toEqual({ status, message });
    expect(sandbox.updates()).toEqual([]);
  });

  it('refuses a body that is not JSON-typed, and other methods', async () => {
    const sandbox = await start();
    expect((await post(deliveryUrl(sandbox), VALID, { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await call('GET', deliveryUrl(sandbox))).status).toBe(405);
  });

  it('requires the bearer token when the account does', async () => {
    const sandbox = await start({ deliveryToken: 's3cret' });
    expect((await post(deliveryUrl(sandbox), VALID)).status).toBe(401);
    expect((await post(deliveryUrl(sandbox), VALID, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(deliveryUrl(sandbox), VALID, { authorization: 'Bearer s3cret' })).status).toBe(200);
  });

  it('answers 420 past 100 concurrent calls of one session, not for other sessions', async () => {
    const sandbox = await start({ latencyMs: 400 });
    const session = (id: string, i: number) => post(deliveryUrl(sandbox, `client=acme&sessionId=${id}`), { ...VALID, id: { thirdPartyId: `P-${i}` } });
    const replies = await Promise.all([...Array.from({ length: 101 }, (_, i) => session('busy', i)), session('other', 999)]);
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(101);
    expect(statuses.filter((s) => s === 420)).toHaveLength(1);
    expect(JSON.parse(replies[statuses.indexOf(420)]?.text ?? '')).toEqual({ status: 420, message: 'too many requests with the same session id' });
    expect(sandbox.stats()).toMatchObject({ maxConcurrentPerSession: 100, deliveryByStatus: { '200': 101, '420': 1 } });
    // Once they are answered the session is free again.
    expect((await session('busy', 1000)).status).toBe(200);
  });

  it('takes down only the Delivery door with faultScope delivery', async () => {
    const sandbox = await start({ createMissing: true, failRate: 1, faultScope: ['delivery'] });
    expect((await post(deliveryUrl(sandbox), VALID)).status).toBe(503);
    expect((await call('GET', updateUrl(sandbox, 'C-2', '&profile.n=1'))).status).toBe(200);
    sandbox.setFaults({ faultScope: ['update'] });
    expect((await post(deliveryUrl(sandbox), VALID)).status).toBe(200);
    expect((await call('GET', updateUrl(sandbox, 'C-2', '&profile.n=1'))).status).toBe(503);
    expect(sandbox.stats()).toMatchObject({ deliveryByStatus: { '503': 1, '200': 1 }, byStatus: { '200': 1, '503': 1 } });
  });

  it('throttles with Retry-After, resets connections, and refuses rejectIds for good with a message', async () => {
    const sandbox = await start({ rate429: 1, retryAfterSeconds: 3, faultScope: ['delivery'] });
    const throttled = await post(deliveryUrl(sandbox), VALID);
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('3');
    sandbox.setFaults({ rate429: 0, resetRate: 1 });
    await expect(post(deliveryUrl(sandbox), VALID)).rejects.toMatchObject({ code: 'ECONNRESET' });
    sandbox.setFaults({ resetRate: 0, rejectIds: ['C-1'] });
    const refused = await post(deliveryUrl(sandbox), VALID);
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.text)).toEqual({ status: 400, message: 'call refused for mbox3rdPartyId=C-1 (sandbox rejectIds)' });
    expect(sandbox.updates()).toEqual([]);
    expect(sandbox.stats()).toMatchObject({ deliveryResets: 1, byRoute: { realtime: 3 } });
  });

  it('rejects an unknown fault scope', async () => {
    const sandbox = await start();
    expect(() => sandbox.setFaults({ faultScope: ['nope' as 'update'] })).toThrow(/faultScope/);
  });
});
