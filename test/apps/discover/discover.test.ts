import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { avroToJsonSchema } from '../../../connector/adapters/airbyte/json-schema.js';
import type { CatalogMessage } from '../../../connector/adapters/airbyte/messages.js';
import { runDiscover } from '../../../connector/apps/discover/discover.js';
import { registerDiscover } from '../../../connector/cli/commands/discover.js';
import { SAMPLE_TOPICS } from '../../../connector/tools/sample-events.js';
import { loadAvroSchema } from '../../../connector/adapters/mapping-file/schema-file.js';
import { startFakeRegistry, type FakeRegistry } from '../../support/fake-registry.js';
import { ROOT } from '../../support/delivery-harness.js';
import { lines, protocolMessage } from '../../support/airbyte-protocol.js';
import { writeAirbyteWorkspace } from '../../support/airbyte-workspace.js';

const EXAMPLE_CONFIG = fileURLToPath(new URL('../../../examples/config.yaml', import.meta.url));
const SCHEMA_FILES = {
  [SAMPLE_TOPICS.crm]: 'crm-customer-updated.avsc',
  [SAMPLE_TOPICS.loyalty]: 'loyalty-card-swiped.avsc',
  [SAMPLE_TOPICS.transaction]: 'transaction-completed.avsc',
};

let registry: FakeRegistry | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await registry?.close();
  registry = undefined;
});

async function discover(config: string) {
  let out = '';
  let err = '';
  const code = await runDiscover({ config }, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out: lines(out), err };
}

describe('discover', () => {
  it('prints one CATALOG with a stream per mapped topic and the JSON Schema of its Avro schema', async () => {
    const { code, out, err } = await discover(EXAMPLE_CONFIG);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    const { catalog } = protocolMessage<CatalogMessage>(out[0], 'CATALOG');
    expect(catalog.streams.map((s) => s.name)).toEqual(Object.values(SAMPLE_TOPICS));
    for (const stream of catalog.streams) {
      const type = await loadAvroSchema(join(ROOT, 'schemas', SCHEMA_FILES[stream.name as keyof typeof SCHEMA_FILES]));
      expect(stream).toEqual({ name: stream.name, json_schema: avroToJsonSchema(type), supported_sync_modes: ['full_refresh', 'incremental'] });
    }
  });

  it("takes the registry's latest <topic>-value when the mapping names no schema", async () => {
    registry = await startFakeRegistry();
    const avro = {
      type: 'record',
      name: 'Signup',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'plan', type: ['null', 'string'], default: null },
      ],
    };
    registry.register('signups-value', 1, avro);
    const workspace = writeAirbyteWorkspace({
      targetUrl: 'http://127.0.0.1:9',
      schemaRegistry: { url: registry.url },
      mapping: { version: 1, mappings: [{ topic: 'signups', identity: { mbox3rdPartyId: 'id' }, attributes: { plan: 'plan' } }] },
    });
    const { code, out } = await discover(workspace.config);
    expect(code).toBe(0);
    const { catalog } = protocolMessage<CatalogMessage>(out[0], 'CATALOG');
    expect(catalog.streams).toEqual([
      {
        name: 'signups',
        json_schema: {
          $schema: 'http://json-schema.org/draft-07/schema#',
          type: 'object',
          properties: { id: { type: 'string' }, plan: { type: ['null', 'string'] } },
          required: ['id'],
        },
        supported_sync_modes: ['full_refresh', 'incremental'],
      },
    ]);
    expect(registry.hits.get('/subjects/signups-value/versions/latest')).toBe(1);
  });

  it('fails with a TRACE ERROR naming every topic without a schema', async () => {
    const workspace = writeAirbyteWorkspace({
      targetUrl: 'http://127.0.0.1:9',
      mapping: {
        version: 1,
        mappings: [
          { topic: 'a.events', identity: { mbox3rdPartyId: 'id' }, attributes: { x: 'x' } },
          { topic: 'b.events', identity: { mbox3rdPartyId: 'id' }, attributes: { x: 'x' } },
        ],
      },
    });
    const { code, out, err } = await discover(workspace.config);
    expect(code).toBe(2);
    expect(out).toHaveLength(1);
    const { trace } = protocolMessage<{ trace: { error: { message: string; failure_type: string } } }>(out[0], 'TRACE');
    expect(trace.error.failure_type).toBe('config_error');
    for (const topic of ['a.events', 'b.events']) {
      expect(trace.error.message).toContain(`topic ${topic} has no schema: the mapping names none and no schema_registry is configured`);
      expect(err).toContain(topic);
    }
  });

  it('is registered as a subcommand that prints the CATALOG line on stdout', async () => {
    const chunks: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    });
    const program = new Command().exitOverride();
    registerDiscover(program);
    await program.parseAsync(['discover', '--config', EXAMPLE_CONFIG], { from: 'user' });
    vi.restoreAllMocks();
    expect(chunks.join('').split('\n')).toHaveLength(2);
    protocolMessage(lines(chunks.join(''))[0], 'CATALOG');
  });
});
