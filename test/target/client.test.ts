import { afterEach, describe, expect, it } from 'vitest';
import { TargetError } from '../../connector/errors.js';
import { startSandbox, type Sandbox } from '../../connector/sandbox/server.js';
import { TargetClient } from '../../connector/target/client.js';
import { createRequestBuilder } from '../../connector/target/request-builder.js';

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
    for (const r of [...small, ...large]) await client.send(r);
    expect(sandbox.profile('mbox3rdPartyId', 'C-1')).toEqual({ city: 'Malmö & Co', note: 'å'.repeat(5000) });
  });

  it('accepts a URL whose origin is spelled differently, and refuses another origin', async () => {
    const { sandbox, client } = await setup();
    await client.send({ method: 'GET', url: `${sandbox.url.replace('http://', 'HTTP://')}/m2/acme/profile/update?mbox3rdPartyId=C-2&profile.x=1` });
    expect(sandbox.profile('mbox3rdPartyId', 'C-2')).toEqual({ x: '1' });
    const other = client.send({ method: 'GET', url: 'http://127.0.0.2:1/m2/acme/profile/update?mbox3rdPartyId=C-3' });
    await expect(other).rejects.toMatchObject({ retryable: false });
  });

  it('turns 503 and a reset connection into retryable errors, 400 into a permanent one', async () => {
    const { sandbox, client } = await setup({ failRate: 1 });
    const url = `${sandbox.url}/m2/acme/profile/update?mbox3rdPartyId=C-4&profile.x=1`;
    await expect(client.send({ method: 'GET', url })).rejects.toMatchObject({ retryable: true, status: 503 });
    sandbox.setFaults({ failRate: 0, resetRate: 1 });
    const reset = await client.send({ method: 'GET', url }).catch((e: unknown) => e);
    expect(reset).toBeInstanceOf(TargetError);
    expect((reset as TargetError).retryable).toBe(true);
    sandbox.setFaults({ resetRate: 0 });
    await expect(client.send({ method: 'GET', url: `${sandbox.url}/m2/acme/profile/update?mbox3rdPartyId=a/b` })).rejects.toMatchObject({
      retryable: false,
      status: 400,
    });
  });
});
