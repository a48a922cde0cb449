import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerSpec } from '../../../connector/cli/commands/spec.js';
import { SPEC_PATH, type ConnectorSpec, type JsonSchema } from '../../../connector/adapters/config/spec.js';

afterEach(() => {
  vi.restoreAllMocks();
});

async function runSpec(): Promise<string> {
  const chunks: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  const program = new Command().exitOverride();
  registerSpec(program);
  await program.parseAsync(['spec'], { from: 'user' });
  return chunks.join('');
}

describe('spec command', () => {
  it('prints one SPEC message carrying spec.json', async () => {
    const output = await runSpec();
    const lines = output.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    expect(JSON.parse(lines[0]!)).toEqual({ type: 'SPEC', spec: JSON.parse(readFileSync(SPEC_PATH, 'utf8')) });
  });

  it('carries a valid draft-07 schema with the Airbyte fields', async () => {
    const { spec } = JSON.parse(await runSpec()) as { spec: Record<string, unknown> };
    expect(spec).toMatchObject({ supportsIncremental: false, supported_destination_sync_modes: ['append'] });
    expect(spec.documentationUrl).toMatch(/^https:\/\//);
    const ajv = new Ajv({ strict: false });
    expect(ajv.validateSchema(spec.connectionSpecification as object)).toBe(true);
  });

  it('marks exactly the passwords and the tokens as secrets', async () => {
    const { spec } = JSON.parse(await runSpec()) as { spec: ConnectorSpec };
    const secrets: string[] = [];
    const visit = (schema: JsonSchema, prefix: string): void => {
      for (const [name, child] of Object.entries(schema.properties ?? {})) {
        if (child.airbyte_secret) secrets.push(prefix + name);
        visit(child, `${prefix}${name}.`);
      }
    };
    visit(spec.connectionSpecification, '');
    expect(secrets.sort()).toEqual(['delivery.quota_store.password', 'kafka.sasl.password', 'schema_registry.password', 'target.auth_token', 'target.token']);
  });
});
