import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { MappingError } from '../../../connector/core/errors.js';
import { parseAvroSchema } from '../../../connector/core/avro-types.js';
import { loadMapping } from '../../../connector/adapters/mapping-file/load.js';
import { compile, problemsOf } from '../../core/mapping/support.js';

const MULTI = `# yaml-language-server: $schema=../schemas/mapping.schema.json
version: 1
mappings:
  - topic: crm.customer.updated
    schema: crm.avsc
    identity: { mbox3rdPartyId: customer.id }
    when:
      - { path: eventTyp, in: [CREATED] }
    attributes:
      email: { path: customer.email, transform: [trim, lowercas] }
      user: customer.tier
      city: customer.adress.city
      total: { path: customer.tier, transform: { round: -1 } }
      profile.email: customer.email
      source: { value: "" }
    expand: { path: customer, prefix: cf_ }
  - topic: loyalty
    schema: missing.avsc
    identity: { mboxPC: card.id }
    atributes:
      x: y
`;

describe('mapping errors', () => {
  it('lists every problem of a file at once, each with line:column and what was expected', async () => {
    const problems = await problemsOf(MULTI);
    const schema = 'schema com.acme.crm.CustomerUpdated';
    expect(problems).toEqual([
      `8:17 mappings[0].when[0].path: path eventTyp is not in ${schema}: record com.acme.crm.CustomerUpdated has no field "eventTyp" (did you mean "eventType"?)`,
      '10:56 mappings[0].attributes.email.transform[1]: unknown transform "lowercas" (did you mean "lowercase"?)',
      `11:7 mappings[0].attributes.user: attribute name "user" collides with Target's own "user" names`,
      `12:13 mappings[0].attributes.city: path customer.adress.city is not in ${schema}: record com.acme.crm.Customer has no field "adress" (did you mean "address"?)`,
      '13:57 mappings[0].attributes.total.transform.round: number of decimals must be >= 0',
      '14:7 mappings[0].attributes["profile.email"]: attribute "email" is mapped twice (the profile. prefix is optional)',
      '15:24 mappings[0].attributes.source.value: constant for source is empty; Target cannot clear an attribute, so it would never be sent',
      `16:21 mappings[0].expand.path: expand needs a map, but customer is a record com.acme.crm.Customer in ${schema}`,
      '17:5 mappings[1]: mapping needs attributes or expand, otherwise it never sends anything',
      expect.stringMatching(/^18:13 mappings\[1\]\.schema: schema missing\.avsc: cannot read Avro schema: ENOENT/) as string,
      '20:5 mappings[1].atributes: unknown key "atributes" in mapping (did you mean "attributes"?)',
    ]);
  });

  it('explains structural mistakes in the words of the mapping syntax', async () => {
    const problems = await problemsOf(`version: 2
mappings:
  - topic: t
    identity: { mbox3rdPartyId: a, mboxPC: b }
    when:
      - { path: a }
      - { path: a, in: [x], equals: y }
    attributes:
      n: 5
      c: { value: crm, path: x }
      l: { path: a, transform: { lookup: {} } }
      e: { path: a, transform: [{ join: ",", truncate: 2 }] }
      z: { path: a, transform: { rnd: 1 } }
`);
    expect(problems).toEqual([
      '1:10 version: unknown mapping file version 2 (expected one of: 1)',
      '4:15 mappings[0].identity: identity takes only one of mbox3rdPartyId, mboxPC, found mbox3rdPartyId and mboxPC',
      '6:9 mappings[0].when[0]: condition needs one of: in, not_in, equals, exists',
      '7:9 mappings[0].when[1]: condition takes only one of in, not_in, equals, exists, found in and equals',
      '9:10 mappings[0].attributes.n: expected path or {path, transform, default} or {value} (string), found number 5',
      '10:24 mappings[0].attributes.c.path: unknown key "path" in constant attribute (expected one of: value)',
      '11:42 mappings[0].attributes.l.transform.lookup: lookup table is empty',
      '12:33 mappings[0].attributes.e.transform[0]: transform takes 1 key, found join and truncate',
      '13:34 mappings[0].attributes.z.transform.rnd: unknown transform "rnd" (expected one of: round, join, truncate, lookup)',
    ]);
  });

  it('reports YAML syntax errors with their position, one per line', async () => {
    const problems = await problemsOf('version: 1\nmappings:\n  - topic: a\n    identity: { mbox3rdPartyId: x\n');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^5:1 /);
  });

  it('rejects bad paths, names and identities that the JSON Schema cannot see', async () => {
    const long = 'a'.repeat(129);
    const problems = await problemsOf(`version: 1
mappings:
  - topic: crm.customer.updated
    identity: { mbox3rdPartyId: "customer..id" }
    attributes:
      ${long}: customer.tier
      mbox3rdPartyId: customer.id
      Geolocation.city: customer.tier
      "": customer.tier
      __proto__: customer.tier
      d: { path: customer.tier, default: "" }
      q: "items[0"
`);
    expect(problems).toEqual([
      '4:33 mappings[0].identity.mbox3rdPartyId: path "customer..id" has no field name at character 10',
      `6:7 mappings[0].attributes.${long}: attribute name has 129 characters; Target allows at most 128`,
      `7:7 mappings[0].attributes.mbox3rdPartyId: attribute name "mbox3rdPartyId" collides with Target's own "mbox3rdpartyid" names`,
      `8:7 mappings[0].attributes["Geolocation.city"]: attribute name "Geolocation.city" collides with Target's own "geolocation" names`,
      '9:7 mappings[0].attributes[""]: attribute name is empty',
      '10:7 mappings[0].attributes.__proto__: attribute name "__proto__" is not allowed',
      '11:42 mappings[0].attributes.d.default: default for d is empty; Target cannot clear an attribute, so it would never be sent',
      '12:10 mappings[0].attributes.q: path "items[0" is not valid at character 6 (expected .field, [index] or ["map key"])',
    ]);
  });

  it('one topic has one reader schema', async () => {
    const problems = await problemsOf(`version: 1
mappings:
  - { topic: t, schema: crm.avsc, identity: { mboxPC: customer.id }, attributes: { a: source } }
  - { topic: t, schema: loyalty.avsc, identity: { mboxPC: customer.id }, attributes: { b: source } }
`);
    expect(problems).toEqual([expect.stringMatching(/^4:25 mappings\[1\]\.schema: topic t already uses schema .*crm\.avsc; one topic has one reader schema$/)]);
  });

  it('reports an unreadable or invalid schema file at the schema key', async () => {
    const problems = await problemsOf(
      `version: 1
mappings:
  - { topic: a, schema: bad.avsc, identity: { mboxPC: x }, attributes: { a: x } }
  - { topic: b, schema: notjson.avsc, identity: { mboxPC: x }, attributes: { a: x } }
`,
      { 'bad.avsc': '{"type": "record", "name": "R", "fields": [{"name": "x", "type": "strin"}]}', 'notjson.avsc': '{' },
    );
    expect(problems).toEqual([
      expect.stringMatching(/^3:25 mappings\[0\]\.schema: schema bad\.avsc: not a valid Avro schema: .*strin/),
      expect.stringMatching(/^4:25 mappings\[1\]\.schema: schema notjson\.avsc: not valid JSON/),
    ]);
  });

  it('a missing mapping file is a MappingError naming it', async () => {
    const err = await loadMapping('/nonexistent/mapping.yaml').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MappingError);
    expect((err as MappingError).message).toMatch(/^\/nonexistent\/mapping\.yaml cannot read mapping file/);
  });
});

describe('loading', () => {
  it('loads the example mapping with its three topics and reader schemas', async () => {
    const file = fileURLToPath(new URL('../../../examples/mapping.yaml', import.meta.url));
    const mapping = await loadMapping(file);
    expect(mapping.file).toBe(file);
    expect(mapping.topics).toEqual(['crm.customer.updated', 'loyalty.card.swiped', 'transaction.completed']);
    expect(mapping.readerSchema('transaction.completed')?.name).toBe('com.acme.sales.TransactionCompleted');
    expect(mapping.readerSchema('unknown')).toBeUndefined();
  });

  it('the mapping JSON Schema is valid draft-07 and accepts the example as an editor would', async () => {
    const schema = JSON.parse(await readFile(new URL('../../../schemas/mapping.schema.json', import.meta.url), 'utf8')) as object;
    const validate = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(schema);
    const example = parse(await readFile(new URL('../../../examples/mapping.yaml', import.meta.url), 'utf8')) as unknown;
    expect(validate(example)).toBe(true);
    expect(validate({ version: 1, mappings: [{ topic: 't', identity: {}, attributes: {} }] })).toBe(false);
  });

  it('checkPaths proves paths against another schema (a registry writer schema)', async () => {
    const mapping = await compile(`version: 1
mappings:
  - topic: t
    identity: { mbox3rdPartyId: id }
    when: [{ path: kind, exists: true }]
    attributes:
      a: profile.tier
      b: items[0].sku
    expand: { path: extra }
`);
    const writer = parseAvroSchema({
      type: 'record',
      name: 'W',
      fields: [
        { name: 'id', type: 'string' },
        { name: 'profile', type: { type: 'record', name: 'P', fields: [{ name: 'tier', type: 'string' }] } },
        { name: 'items', type: { type: 'array', items: 'string' } },
        { name: 'extra', type: { type: 'map', values: 'string' } },
      ],
    });
    const problems = mapping.checkPaths('t', writer);
    expect(problems.map((p) => `${p.line}:${p.column} ${p.field}: ${p.message}`)).toEqual([
      '5:20 mappings[0].when[0].path: path kind is not in schema W: record W has no field "kind"',
      '8:10 mappings[0].attributes.b: path items[0].sku is not in schema W: items[0] is a string; it has no field "sku"',
    ]);
    expect(mapping.checkPaths('unmapped', writer)).toEqual([]);
  });
});

describe('parts of the wrong type', () => {
  it('are reported at their position instead of crashing the check of the rest', async () => {
    expect(
      await problemsOf(`version: 1
mappings:
  - topic: t
    identity: x
    when: x
    attributes: y
    expand: z
`),
    ).toEqual([
      '4:15 mappings[0].identity: identity needs one of: mbox3rdPartyId, mboxPC',
      '4:15 mappings[0].identity: expected identity (map), found "x"',
      '5:11 mappings[0].when: expected list of conditions (list), found "x"',
      '6:17 mappings[0].attributes: expected attributes (map), found "y"',
      '7:13 mappings[0].expand: expected expand (map), found "z"',
    ]);
  });
});
