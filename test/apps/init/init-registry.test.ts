import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInit, type InitOptions } from '../../../connector/apps/init/init.js';
import { runMappingTests } from '../../../connector/apps/mapping-test/mapping-test.js';
import { loadMapping } from '../../../connector/adapters/mapping-file/load.js';
import { writeAirbyteWorkspace } from '../../support/airbyte-workspace.js';
import { ROOT } from '../../support/delivery-harness.js';
import { startFakeRegistry, type FakeRegistry } from '../../support/fake-registry.js';
import { testTempDir } from '../../support/test-run.js';

const TOPIC = 'crm.customer.updated';
let registry: FakeRegistry;

beforeAll(async () => {
  registry = await startFakeRegistry();
  const crm: unknown = JSON.parse(readFileSync(join(ROOT, 'schemas', 'crm-customer-updated.avsc'), 'utf8'));
  registry.register(`${TOPIC}-value`, 921, crm, 3);
});

afterAll(async () => {
  await registry.close();
});

async function init(options: InitOptions) {
  let out = '';
  let err = '';
  const code = await runInit(options, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('init --config: the schema from the config’s registry', () => {
  it('writes the latest version of <topic>-value beside the mapping, docs kept, and scaffolds from it a mapping whose test passes', async () => {
    // Nothing listens for Kafka or Target in the workspace's config: init only asks the registry.
    const { config } = writeAirbyteWorkspace({ targetUrl: 'http://127.0.0.1:9', schemaRegistry: { url: registry.url } });
    const out = await testTempDir('init');
    const made = await init({ config, topic: TOPIC, out });
    expect(made.err).toBe('');
    expect(made.code).toBe(0);
    const schemaFile = join(out, `${TOPIC}-value.avsc`);
    expect(made.out.split('\n')[0]).toBe(`wrote ${schemaFile} (version 3 of subject ${TOPIC}-value in ${registry.url})`);
    const text = readFileSync(join(out, 'mapping.yaml'), 'utf8');
    expect(text).toContain(`    schema: ./${TOPIC}-value.avsc\n`);
    expect(text).toContain('      country: customer.address.country  # string, optional — ISO 3166-1 alpha-2\n');
    expect((await loadMapping(join(out, 'mapping.yaml'))).topics).toEqual([TOPIC]);
    writeFileSync(join(out, 'config.yaml'), 'kafka: { brokers: [127.0.0.1:9092] }\ntarget: { client_code: acme }\nmapping_file: mapping.yaml\n');
    let report = '';
    const code = await runMappingTests({ config: join(out, 'config.yaml') }, { out: (t) => (report += t), err: (t) => (report += t) });
    expect(report).toMatch(/^1 case: 1 passed, 0 failed$/m);
    expect(code).toBe(0);
  });

  it('names the subject the registry does not have, and a config without a registry; writes nothing', async () => {
    const withRegistry = writeAirbyteWorkspace({ targetUrl: 'http://127.0.0.1:9', schemaRegistry: { url: registry.url } });
    const out = await testTempDir('init');
    const unknown = await init({ config: withRegistry.config, topic: TOPIC, subject: 'nobody-value', out });
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(
      /^schema registry http:\/\/127\.0\.0\.1:\d+ answered HTTP 404 for \/subjects\/nobody-value\/versions\/latest: .*Subject not found/,
    );

    const without = writeAirbyteWorkspace({ targetUrl: 'http://127.0.0.1:9' });
    const none = await init({ config: without.config, topic: TOPIC, out });
    expect(none.code).toBe(2);
    expect(none.err).toBe(`${without.config} has no schema_registry to fetch the schema from\n`);
    expect(() => readFileSync(join(out, 'mapping.yaml'))).toThrow();
  });
});
