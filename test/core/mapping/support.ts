import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { MappingError } from '../../../connector/core/errors.js';
import { type CompiledMapping } from '../../../connector/core/mapping/index.js';
import { loadMapping, type LoadMappingOptions } from '../../../connector/adapters/mapping-file/load.js';
import { testTempDir } from '../../support/test-run.js';

/**
 * Runs `use` on a fresh folder (removed when the test file ends) holding `mapping.yaml` and
 * copies of the sample schemas (crm.avsc, loyalty.avsc, transaction.avsc).
 */
async function inMappingFolder<T>(yaml: string, extraFiles: Record<string, string>, use: (file: string) => Promise<T>): Promise<T> {
  const dir = await testTempDir('mapping');
  const schema = (name: string) => fileURLToPath(new URL(`../../../schemas/${name}.avsc`, import.meta.url));
  await copyFile(schema('crm-customer-updated'), join(dir, 'crm.avsc'));
  await copyFile(schema('loyalty-card-swiped'), join(dir, 'loyalty.avsc'));
  await copyFile(schema('transaction-completed'), join(dir, 'transaction.avsc'));
  await writeFile(join(dir, 'mapping.yaml'), yaml);
  for (const [name, text] of Object.entries(extraFiles)) await writeFile(join(dir, name), text);
  return use(join(dir, 'mapping.yaml'));
}

/** Loads a mapping written inline. */
export async function compile(yaml: string, options?: LoadMappingOptions): Promise<CompiledMapping> {
  return inMappingFolder(yaml, {}, (file) => loadMapping(file, options));
}

/** The problems of a mapping that must not load, as `line:column field: message` without the folder. */
export async function problemsOf(yaml: string, extraFiles: Record<string, string> = {}): Promise<string[]> {
  return inMappingFolder(yaml, extraFiles, async (file) => {
    const err = await loadMapping(file).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MappingError);
    return (err as MappingError).message.split('\n').map((line) => line.replace(`${file}:`, ''));
  });
}
