import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRegistryClient, type RegistryClient } from '../../../connector/adapters/registry/registry.js';
import { RegistryRejectedError, RegistryUnavailableError } from '../../../connector/core/errors.js';
import { startFakeRegistry, type FakeRegistry } from '../../support/fake-registry.js';

const schema = (fields: string[]) => ({ type: 'record', name: 'Customer', fields: fields.map((name) => ({ name, type: 'string' })) });

describe('registry client: the versions of a subject', () => {
  let registry: FakeRegistry;
  let client: RegistryClient;

  beforeEach(async () => {
    registry = await startFakeRegistry();
    registry.register('crm-value', 21, schema(['id', 'email']), 3);
    registry.register('crm-value', 7, schema(['id']), 1);
    client = createRegistryClient({ url: registry.url }, { attempts: 2, backoffMs: 5 });
  });
  afterEach(async () => {
    await client.close();
    await registry.close();
  });

  it('lists the registered versions oldest first, and reads each one', async () => {
    expect(await client.versions('crm-value')).toEqual([1, 3]);
    const first = await client.version('crm-value', 1);
    expect(first).toMatchObject({ subject: 'crm-value', version: 1, id: 7 });
    expect((first.type as unknown as { fields: { name: string }[] }).fields.map((f) => f.name)).toEqual(['id']);
    expect(await client.latestVersion('crm-value')).toMatchObject({ version: 3, id: 21 });
    expect(registry.hits.get('/subjects/crm-value/versions')).toBe(1);
  });

  it('a subject the registry does not know has no versions; a version it does not have is rejected', async () => {
    expect(await client.versions('nobody-value')).toEqual([]);
    await expect(client.version('crm-value', 2)).rejects.toBeInstanceOf(RegistryRejectedError);
  });

  it('a registry that keeps failing is unavailable, not a subject without versions', async () => {
    registry.failNext(2, 503);
    await expect(client.versions('crm-value')).rejects.toBeInstanceOf(RegistryUnavailableError);
  });
});
