import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runInit, type InitOptions } from '../../../connector/apps/init/init.js';
import { runMappingTests } from '../../../connector/apps/mapping-test/mapping-test.js';
import { loadMapping } from '../../../connector/adapters/mapping-file/load.js';
import { testTempDir } from '../../support/test-run.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Every .avsc under `dir`, recursively. */
async function avscFiles(dir: string): Promise<string[]> {
  const entries = await readdir(join(ROOT, dir), { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.avsc')).map((e) => join(e.parentPath, e.name));
}

async function init(options: InitOptions) {
  let out = '';
  let err = '';
  const code = await runInit(options, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('init', () => {
  it('scaffolds, for every .avsc under schemas/ and examples/, a mapping the loader takes and a test case that passes', async () => {
    const schemas = [...(await avscFiles('schemas')), ...(await avscFiles('examples'))];
    expect(schemas.length).toBeGreaterThanOrEqual(3);
    for (const schema of schemas) {
      const out = await testTempDir('init');
      const topic = `scaffold.${relative(ROOT, schema).replace(/[^\w]+/g, '.')}`;
      const made = await init({ schema, topic, out });
      expect(made.err, schema).toBe('');
      expect(made.code, schema).toBe(0);
      const mapping = await loadMapping(join(out, 'mapping.yaml'));
      expect(mapping.topics).toEqual([topic]);
      await writeFile(join(out, 'config.yaml'), 'kafka: { brokers: [127.0.0.1:9092] }\ntarget: { client_code: acme }\nmapping_file: mapping.yaml\n');
      let report = '';
      const code = await runMappingTests({ config: join(out, 'config.yaml') }, { out: (t) => (report += t), err: (t) => (report += t) });
      expect(report, schema).toMatch(/^1 case: 1 passed, 0 failed$/m);
      expect(code, schema).toBe(0);
    }
  });

  it('lists every path with its type and doc, marks the guessed identity, and gives a when example for the event type', async () => {
    const out = await testTempDir('init');
    const made = await init({ schema: join(ROOT, 'schemas/crm-customer-updated.avsc'), topic: 'crm.customer.updated', out });
    expect(made.out).toContain('identity: mbox3rdPartyId from customer.id (guessed');
    const text = await readFile(join(out, 'mapping.yaml'), 'utf8');
    const schemaRef = relative(out, join(ROOT, 'schemas/mapping.schema.json'));
    expect(text.split('\n')[0]).toBe(`# yaml-language-server: $schema=${schemaRef}`);
    expect(text).toContain('    identity: { mbox3rdPartyId: customer.id }  # guessed: check (string)\n');
    expect(text).toContain('    # when:\n    #   - { path: eventType, in: [CREATED, UPDATED] }');
    expect(text).toContain('      country: customer.address.country  # string, optional — ISO 3166-1 alpha-2\n');
    expect(text).toContain('      # categories: "preferences.categories[0]"  # string, optional, the first list item only\n');
    expect(text).toContain('    # expand: { path: customFields, prefix: customFields_ }');
    const test = await readFile(join(out, 'mapping.test.yaml'), 'utf8');
    expect(test).toMatch(/\n {4}updates:\n {6}- identity: \{ mbox3rdPartyId: ID-\d{6} \}\n/);
  });

  it('an optional identity gets an active exists condition', async () => {
    const out = await testTempDir('init');
    await init({ schema: join(ROOT, 'schemas/transaction-completed.avsc'), topic: 'transaction.completed', out });
    expect(await readFile(join(out, 'mapping.yaml'), 'utf8')).toContain('    when:\n      - { path: customerId, exists: true }');
  });

  it('takes the identity given with --identity, and names the usable paths when it is not one', async () => {
    const out = await testTempDir('init');
    const schema = join(ROOT, 'schemas/loyalty-card-swiped.avsc');
    expect((await init({ schema, topic: 't', out, identity: 'card.number' })).code).toBe(0);
    expect(await readFile(join(out, 'mapping.yaml'), 'utf8')).toContain('identity: { mbox3rdPartyId: card.number }  # given with --identity');
    const bad = await init({ schema, topic: 't', out: await testTempDir('init'), identity: 'card' });
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^--identity card is not a single value of the schema; one of: eventId, swipedAt, card\.number, /);
  });

  it('refuses to overwrite existing files unless --force', async () => {
    const out = await testTempDir('init');
    await writeFile(join(out, 'mapping.yaml'), '# mine\n');
    const schema = join(ROOT, 'schemas/loyalty-card-swiped.avsc');
    const refused = await init({ schema, topic: 't', out });
    expect(refused.code).toBe(2);
    expect(refused.err).toContain('mapping.yaml already exists: not overwritten (--force to replace)');
    expect(await readFile(join(out, 'mapping.yaml'), 'utf8')).toBe('# mine\n');
    expect((await init({ schema, topic: 't', out, force: true })).code).toBe(0);
    expect(await readFile(join(out, 'mapping.yaml'), 'utf8')).toContain('card.customerId');
  });
});
