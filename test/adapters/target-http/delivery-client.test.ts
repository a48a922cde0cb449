import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryClient } from '../../../connector/adapters/target-http/delivery-client.js';
import { createDeliveryRequestBuilder, deliverySessionId } from '../../../connector/core/target-api/delivery-request.js';
import { startSandbox, type Sandbox } from '../../../connector/tools/sandbox/server.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A server that records each request exactly as it arrived and answers like Target. */
async function recorder(): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":200,"requestId":"r"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

function clientFor(baseUrl: string, authToken?: string): DeliveryClient {
  const client = new DeliveryClient({ baseUrl, timeoutMs: 1000, connections: 4, authToken });
  open.push(client);
  return client;
}

function builderFor(baseUrl: string) {
  return createDeliveryRequestBuilder({ baseUrl, path: '/rest/v1/delivery', clientCode: 'acme', mbox: 'target-profile-sink', channel: 'web' });
}

async function sandboxAt(options: Parameters<typeof startSandbox>[0] = {}): Promise<Sandbox> {
  const sandbox = await startSandbox({ seed: 5, ...options });
  open.push(sandbox);
  return sandbox;
}

describe('DeliveryClient', () => {
  it('POSTs exactly the built call: URL, JSON content type, body, and the bearer token when set', async () => {
    const { url, received } = await recorder();
    const [call] = builderFor(url).build({ identity: { kind: 'mbox3rdPartyId', value: 'Åsa & 🦄' }, attributes: { 'a&b': '50% + "x"\nö' } });
    expect(await clientFor(url, 'tok-123').send(call!)).toEqual({ kind: 'acknowledged' });
    expect(await clientFor(url).send(call!)).toEqual({ kind: 'acknowledged' });
    const sessionId = deliverySessionId({ kind: 'mbox3rdPartyId', value: 'Åsa & 🦄' });
    const expected = {
      method: 'POST',
      url: `/rest/v1/delivery?client=acme&sessionId=${sessionId}`,
      body: '{"id":{"thirdPartyId":"Åsa & 🦄"},"context":{"channel":"web"},"execute":{"mboxes":[{"index":0,"name":"target-profile-sink","profileParameters":{"a&b":"50% + \\"x\\"\\nö"}}]}}',
    };
    expect(received.map(({ method, url: path, body }) => ({ method, url: path, body }))).toEqual([expected, expected]);
    expect(received[0]?.headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', authorization: 'Bearer tok-123' });
    expect(received[1]?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(received[1]?.headers).not.toHaveProperty('authorization');
  });

  it('gets a call applied by the sandbox, which requires the token', async () => {
    const sandbox = await sandboxAt({ deliveryToken: 's3cret' });
    const [call] = builderFor(sandbox.url).build({ identity: { kind: 'mbox3rdPartyId', value: 'C-1' }, attributes: { tier: 'gold' } });
    expect(await clientFor(sandbox.url, 's3cret').send(call!)).toEqual({ kind: 'acknowledged' });
    expect(sandbox.profile('mbox3rdPartyId', 'C-1')).toEqual({ tier: 'gold' });
    const refused = await clientFor(sandbox.url).send(call!);
    expect(refused).toMatchObject({ kind: 'permanent', error: { status: 401, misconfiguration: { keys: ['target.auth_token', 'target.client_code'] } } });
  });

  it('makes a 400 permanent with the reply message, 420 and 503 retryable', async () => {
    const sandbox = await sandboxAt({ rejectIds: ['C-bad'] });
    const client = clientFor(sandbox.url);
    const [bad] = builderFor(sandbox.url).build({ identity: { kind: 'mbox3rdPartyId', value: 'C-bad' }, attributes: { a: '1' } });
    const permanent = await client.send(bad!);
    expect(permanent).toMatchObject({ kind: 'permanent', error: { status: 400, retryable: false } });
    expect((permanent as { error: Error }).error.message).toBe("Target's Delivery API answered 400: call refused for mbox3rdPartyId=C-bad (sandbox rejectIds)");

    sandbox.setFaults({ failRate: 1 });
    const [ok] = builderFor(sandbox.url).build({ identity: { kind: 'mbox3rdPartyId', value: 'C-2' }, attributes: { a: '1' } });
    expect(await client.send(ok!)).toMatchObject({ kind: 'retryable', error: { status: 503, retryable: true } });
    sandbox.setFaults({ failRate: 0, rate429: 1, retryAfterSeconds: 4 });
    expect(await client.send(ok!)).toMatchObject({ kind: 'retryable', retryAfterMs: 4000, error: { status: 429 } });
  });

  it('retries a 420 of a busy session', async () => {
    const { url } = await busyServer();
    const [call] = builderFor(url).build({ identity: { kind: 'mbox3rdPartyId', value: 'C' }, attributes: { a: '1' } });
    expect(await clientFor(url).send(call!)).toMatchObject({
      kind: 'retryable',
      error: { status: 420, message: "Target's Delivery API answered 420: too many requests with the same session id" },
    });
  });

  it('turns a reset connection and a 404 path into retryable and misconfiguration results', async () => {
    const sandbox = await sandboxAt({ resetRate: 1 });
    const client = clientFor(sandbox.url);
    const [call] = builderFor(sandbox.url).build({ identity: { kind: 'mbox3rdPartyId', value: 'C' }, attributes: { a: '1' } });
    expect(await client.send(call!)).toMatchObject({ kind: 'retryable', error: { code: 'TARGET_RETRYABLE' } });
    const wrongPath = createDeliveryRequestBuilder({ baseUrl: sandbox.url, path: '/rest/v9/delivery', clientCode: 'acme', mbox: 'm', channel: 'web' });
    expect(await client.send(wrongPath.build({ identity: { kind: 'mbox3rdPartyId', value: 'C' }, attributes: { a: '1' } })[0]!)).toMatchObject({
      kind: 'permanent',
      error: { status: 404, misconfiguration: { keys: ['target.client_code', 'target.realtime.path', 'target.base_url'] } },
    });
  });
});

/** A server answering every call as Target does past 100 concurrent calls of one session. */
async function busyServer(): Promise<{ url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      res.writeHead(420, { 'content-type': 'application/json' }).end('{"status":420,"message":"too many requests with the same session id"}'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
