import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadAvroSchema } from '../../../connector/adapters/mapping-file/schema-file.js';
import { MappingError } from '../../../connector/core/errors.js';
import { testTempDir } from '../../support/test-run.js';

async function schemaFile(text: string): Promise<string> {
  const path = join(await testTempDir('avsc'), 'schema.avsc');
  await writeFile(path, text);
  return path;
}

async function failure(path: string): Promise<MappingError> {
  const err = await loadAvroSchema(path).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(MappingError);
  expect((err as MappingError).problems[0]?.file).toBe(path);
  return err as MappingError;
}

describe('loadAvroSchema', () => {
  it('loads the sample schemas with the connector logical types', async () => {
    const type = await loadAvroSchema(fileURLToPath(new URL('../../../schemas/transaction-completed.avsc', import.meta.url)));
    expect(type.name).toBe('com.acme.sales.TransactionCompleted');
    const json = JSON.stringify(type.schema({ exportAttrs: true }));
    expect(json).toContain('"logicalType":"decimal","precision":12,"scale":2');
  });

  it('names the file and the reason when it cannot be used', async () => {
    expect((await failure('/nonexistent.avsc')).message).toMatch(/cannot read Avro schema: ENOENT/);
    expect((await failure(await schemaFile('{"type": '))).message).toMatch(/not valid JSON/);
    expect((await failure(await schemaFile('{"type": "record", "name": "R", "fields": [{"name": "a", "type": "nope"}]}'))).message).toMatch(
      /not a valid Avro schema: .*nope/,
    );
  });
});
