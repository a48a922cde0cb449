import { afterEach, describe, expect, it } from 'vitest';
import { judgeDeliveryAnswer, probeDeliveryDoor, type DeliveryDoorConfig } from '../../../connector/apps/common/realtime.js';
import { startSandbox, type Sandbox } from '../../../connector/tools/sandbox/server.js';

const open: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function sandboxAt(options: Parameters<typeof startSandbox>[0] = {}): Promise<Sandbox> {
  const sandbox = await startSandbox({ clientCode: 'acme', seed: 2, ...options });
  open.push(sandbox);
  return sandbox;
}

function door(sandbox: Sandbox, change: Partial<DeliveryDoorConfig> = {}): DeliveryDoorConfig {
  return { base_url: sandbox.url, client_code: 'acme', realtime: { path: '/rest/v1/delivery', mbox: 'target-profile-sink', channel: 'web' }, ...change };
}

describe('the Delivery door probe of check', () => {
  it('passes when the Delivery API answers JSON, sending the check id with no parameter', async () => {
    const sandbox = await sandboxAt();
    expect(await probeDeliveryDoor(door(sandbox), 2000)).toEqual({
      probe: 'Target Delivery endpoint',
      status: 'passed',
      detail: `${sandbox.url}/rest/v1/delivery accepted a Delivery call without profile parameters`,
    });
    expect(sandbox.updates()).toMatchObject([{ identity: { kind: 'mbox3rdPartyId', value: 'target-profile-sink-check' }, attributes: {}, route: 'realtime' }]);
  });

  it('fails on a wrong client code or path with 404, naming the keys', async () => {
    const sandbox = await sandboxAt();
    expect((await probeDeliveryDoor(door(sandbox, { client_code: 'zzz' }), 2000)).detail).toContain('check target.client_code (zzz) and target.realtime.path');
    const wrongPath = door(sandbox, { realtime: { path: '/rest/v9/delivery', mbox: 'm', channel: 'web' } });
    expect(await probeDeliveryDoor(wrongPath, 2000)).toMatchObject({ status: 'failed', detail: expect.stringContaining('the Delivery path') });
  });

  it('fails on 401 naming target.auth_token, and passes with the token', async () => {
    const sandbox = await sandboxAt({ deliveryToken: 's3cret' });
    expect((await probeDeliveryDoor(door(sandbox), 2000)).detail).toContain('set target.auth_token');
    expect((await probeDeliveryDoor(door(sandbox, { auth_token: 's3cret' }), 2000)).status).toBe('passed');
  });

  it('says a 5xx or 420 may pass later, and names no answer', () => {
    expect(judgeDeliveryAnswer({ answered: true, status: 420, body: '{"message":"busy"}' }, 'http://t/rest/v1/delivery', 'acme').detail).toContain(
      'temporary failure',
    );
    expect(judgeDeliveryAnswer({ answered: true, status: 200, body: 'true' }, 'http://t/rest/v1/delivery', 'acme').detail).toContain('does not look like');
    expect(judgeDeliveryAnswer({ answered: false, reason: 'ECONNREFUSED' }, 'http://t/rest/v1/delivery', 'acme')).toMatchObject({ status: 'failed' });
  });
});
