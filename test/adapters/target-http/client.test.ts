import { afterEach, describe, expect, it } from 'vitest';
import { TargetError } from '../../../connector/core/errors.js';
import { startSandbox, type Sandbox } from '../../../connector/tools/sandbox/server.js';
import { TargetClient } from '../../../connector/adapters/target-http/client.js';
import { createRequestBuilder } from '../../../connector/core/target-api/request-builder.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

async function setup(options: Parameters<typeof startSandbox>[0] = {}): Promise<{ sandbox: Sandbox; client: TargetClient }> {
  const sandbox = await startSandbox({ createMissing: true, seed: 3, ...options });
  const client = new TargetClient({ baseUrl: sandbox.url, timeoutMs: 1000, connections: 4 });
  open.push(sandbox, client);
  return { sandbox, client };
}

describe('TargetClient', () => {
  it('sends built GET and POST requests that Target applies', async () => {
    const { sandbox, client } = await setup();
    const builder = createRequestBuilder({ baseUrl: sandbox.url, pathTemplate: '/m2/{client_code}/profile/update', clientCode: 'acme' });
    const small = builder.build({ identity: { kind: 'mbox3rdPartyId', value: 'C-1' }, attributes: { city: 'Malmö & Co' } });
    const large = builder.build({ identity: { kind: 'mbox3rdPartyId', value: 'C-1' }, attributes: { note: 'å'.repeat(5000) } });
    expect(small.map((r) => r.method)).toEqual(['GET']);
    expect(large.map((r) => r.method)).toEqual(['POST']);
    for (const r of [...small, ...large]) expect(await client.send(r)).toEqual({ kind: 'acknowledged' });
    expect(sandbox.profile('mbox3rdPartyId', 'C-1')).toEqual({ city: 'Malmö & Co', note: 'å'.repeat(5000) });
  });

  it('accepts a URL whose origin is spelled differently, and refuses another origin', async () => {
    const { sandbox, client } = await setup();
    await client.send({ method: 'GET', url: `${sandbox.url.replace('http://', 'HTTP://')}/m2/acme/profile/update?mbox3rdPartyId=C-2&profile.x=1` });
    expect(sandbox.profile('mbox3rdPartyId', 'C-2')).toEqual({ x: '1' });
    const other = await client.send({ method: 'GET', url: 'http://127.0.0.2:1/m2/acme/profile/update?mbox3rdPartyId=C-3' });
    expect(other).toMatchObject({ kind: 'permanent', error: { retryable: false } });
  });

  it('turns 503, 429 with Retry-After and a reset connection into retryable results, 400 into a permanent one, reporting each status', async () => {
    const { sandbox } = await setup({ failRate: 1 });
    const replies: Array<number | undefined> = [];
    const client = new TargetClient({ baseUrl: sandbox.url, timeoutMs: 1000, connections: 4, observer: { replied: (_m, status) => replies.push(status) } });
    open.push(client);
    const url = `${sandbox.url}/m2/acme/profile/update?mbox3rdPartyId=C-4&profile.x=1`;
    expect(await client.send({ method: 'GET', url })).toMatchObject({ kind: 'retryable', error: { status: 503 } });
    sandbox.setFaults({ failRate: 0, rate429: 1, retryAfterSeconds: 7 });
    expect(await client.send({ method: 'GET', url })).toMatchObject({ kind: 'retryable', retryAfterMs: 7000, error: { status: 429 } });
    sandbox.setFaults({ rate429: 0, resetRate: 1 });
    const reset = await client.send({ method: 'GET', url });
    expect(reset.kind).toBe('retryable');
    expect(reset.kind !== 'acknowledged' && reset.error).toBeInstanceOf(TargetError);
    sandbox.setFaults({ resetRate: 0 });
    expect(await client.send({ method: 'GET', url: `${sandbox.url}/m2/acme/profile/update?mbox3rdPartyId=a/b` })).toMatchObject({
      kind: 'permanent',
      error: { retryable: false, status: 400 },
    });
    expect(replies).toEqual([503, 429, undefined, 400]);
  });
});
