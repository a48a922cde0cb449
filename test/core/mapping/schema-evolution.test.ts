import { describe, expect, it } from 'vitest';
import { parseAvroSchema } from '../../../connector/core/avro-types.js';
import { compileMapping, parseMappingDocument, type CompiledMapping } from '../../../connector/core/mapping/index.js';
import { evolutionProblems } from '../../../connector/core/mapping/schema-evolution.js';

type Field = { name: string; type: unknown; default?: unknown; aliases?: string[] };

const KIND = { type: 'enum', name: 'Kind', symbols: ['CREATED', 'UPDATED', 'DELETED'] };
const TIER = { type: 'enum', name: 'Tier', symbols: ['BRONZE', 'GOLD'] };

/** The reader schema the mapping was written against. */
const READER_FIELDS: Field[] = [
  { name: 'id', type: 'string' },
  { name: 'email', type: ['null', 'string'], default: null },
  { name: 'kind', type: KIND },
  { name: 'tier', type: TIER },
  { name: 'updatedAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
  { name: 'total', type: 'double' },
  { name: 'extra', type: { type: 'map', values: 'string' }, default: {} },
];

const record = (fields: Field[]) => ({ type: 'record', name: 'Customer', namespace: 'com.acme', fields });

/** The reader fields with `name` replaced (or removed when `by` is undefined). */
function changed(name: string, by?: Field): Field[] {
  return READER_FIELDS.flatMap((f) => (f.name !== name ? [f] : by ? [by] : []));
}

const MAPPING = `version: 1
mappings:
  - topic: t
    identity: { mbox3rdPartyId: id }
    when: [{ path: kind, in: [CREATED, UPDATED] }]
    attributes:
      email: { path: email, transform: [trim, sha256] }
      tierRank: { path: tier, transform: { lookup: { BRONZE: 1, GOLD: 2 } } }
      updated: { path: updatedAt, transform: iso8601 }
      total: { path: total, transform: { round: 2 } }
    expand: { path: extra, prefix: x_ }
`;

/** The mapping compiled against `reader` (none: the registry's writer schema is read as is). */
function mappingOf(yaml: string, reader: object | null = record(READER_FIELDS)): CompiledMapping {
  const schemas = new Map(reader ? [['t', parseAvroSchema(reader)] as const] : []);
  return compileMapping(parseMappingDocument('mapping.yaml', yaml), schemas, [], {
    longValues: 'truncate',
    platform: { sha256: (text) => text },
  });
}

/** The problems as `kind line:column field: message`. */
function evolve(writerFields: Field[], mapping = mappingOf(MAPPING)): string[] {
  return evolutionProblems({
    file: mapping.file,
    uses: mapping.pathUses('t'),
    writer: parseAvroSchema(record(writerFields)),
    reader: mapping.readerSchema('t'),
  }).map((p) => (p.line === undefined ? `${p.kind} ${p.file}: ${p.message}` : `${p.kind} ${p.line}:${p.column} ${p.field}: ${p.message}`));
}

describe('schema evolution: compatible changes', () => {
  it('the same schema breaks nothing', () => {
    expect(evolve(READER_FIELDS)).toEqual([]);
  });

  it('an optional field added with a default, a promoted number and a symbol dropped that nothing uses break nothing', () => {
    const fields = [...changed('total', { name: 'total', type: 'float' }), { name: 'nickname', type: ['null', 'string'], default: null }].map((f) =>
      f.name === 'kind' ? { ...f, type: { ...KIND, symbols: ['CREATED', 'UPDATED'] } } : f,
    );
    expect(evolve(fields)).toEqual([]);
  });
});

describe('schema evolution: paths that no longer resolve', () => {
  it('a renamed field the mapping reads is named at its path', () => {
    // The reader's default keeps old events readable, but the mapping would only ever see null.
    expect(evolve(changed('email', { name: 'emailAddress', type: ['null', 'string'], default: null }))).toEqual([
      'path-gone 7:22 mappings[0].attributes.email.path: path email no longer resolves in schema com.acme.Customer: record com.acme.Customer has no field "email"',
    ]);
  });

  it('a renamed identity without a default is also unreadable with the reader schema', () => {
    expect(evolve(changed('id', { name: 'customerId', type: 'string' }))).toEqual([
      "unreadable mapping.yaml: the mapping's reader schema com.acme.Customer cannot read events written with com.acme.Customer: field id is not in the writer schema and has no default in the reader schema",
      'path-gone 4:33 mappings[0].identity.mbox3rdPartyId: path id no longer resolves in schema com.acme.Customer: record com.acme.Customer has no field "id"',
    ]);
  });
});

describe('schema evolution: types that changed under a transform', () => {
  it('round on what is now text, and iso8601 on what is now a boolean, are named at the transform', () => {
    const fields = changed('total', { name: 'total', type: 'string' }).map((f) => (f.name === 'updatedAt' ? { ...f, type: 'boolean' } : f));
    const problems = evolve(fields);
    expect(problems.slice(1)).toEqual([
      'type-changed 9:46 mappings[0].attributes.updated.transform: updatedAt was a timestamp-millis (long), is now a boolean: iso8601 needs a timestamp, date, number (epoch milliseconds) or string (ISO 8601 text), but updatedAt is a boolean',
      'type-changed 10:40 mappings[0].attributes.total.transform: total was a double, is now a string: round needs a number or decimal, but total is a string',
    ]);
    expect(problems[0]).toMatch(/^unreadable mapping\.yaml: .*field updatedAt is a boolean in the writer schema but a timestamp/);
  });

  it('a chain that still takes a value of another kind is reported: sha256 of an int is not the hash of an address', () => {
    const problems = evolve(changed('email', { name: 'email', type: ['null', 'int'], default: null }));
    expect(problems.slice(1)).toEqual([
      'type-changed 7:41 mappings[0].attributes.email.transform[0]: email was a string, is now an int; trim, sha256 still takes it, but now transforms another kind of value',
    ]);
    expect(problems[0]).toMatch(/^unreadable /);
  });

  it('an expand path that is no longer a map is named', () => {
    expect(evolve(changed('extra', { name: 'extra', type: 'string', default: '' })).slice(1)).toEqual([
      'type-changed 11:21 mappings[0].expand.path: expand needs a map, but extra is a string in schema com.acme.Customer',
    ]);
  });

  it('a condition on what is now a boolean can never match its symbols', () => {
    expect(evolve(changed('kind', { name: 'kind', type: 'boolean' })).slice(1)).toEqual([
      'type-changed 5:31 mappings[0].when[0].in[0]: kind was an enum com.acme.Kind, is now a boolean: kind is a boolean, so "CREATED" never matches (compare with true or false)',
      'type-changed 5:40 mappings[0].when[0].in[1]: kind was an enum com.acme.Kind, is now a boolean: kind is a boolean, so "UPDATED" never matches (compare with true or false)',
    ]);
  });
});

describe('schema evolution: enum symbols gone', () => {
  it('a symbol a `when` compares with is named at the condition value', () => {
    expect(evolve(changed('kind', { name: 'kind', type: { ...KIND, symbols: ['CREATED', 'DELETED'] } }))).toEqual([
      'symbol-gone 5:40 mappings[0].when[0].in[1]: enum symbol "UPDATED" is gone from an enum com.acme.Kind, so the condition on kind (in) can never match it; its symbols are now CREATED, DELETED',
    ]);
  });

  it('a symbol a `lookup` table maps is named at its key', () => {
    expect(evolve(changed('tier', { name: 'tier', type: { ...TIER, symbols: ['BRONZE'] } }))).toEqual([
      'symbol-gone 8:65 mappings[0].attributes.tierRank.transform.lookup.GOLD: enum symbol "GOLD" is gone from an enum com.acme.Tier, so the lookup on tier can never match it; its symbols are now BRONZE',
    ]);
  });
});

describe('schema evolution: reading the new writer schema with the reader schema', () => {
  it('a symbol added to an enum without a default cannot be read by the old reader schema', () => {
    expect(evolve(changed('tier', { name: 'tier', type: { ...TIER, symbols: ['BRONZE', 'GOLD', 'PLATINUM'] } }))).toEqual([
      "unreadable mapping.yaml: the mapping's reader schema com.acme.Customer cannot read events written with com.acme.Customer: field tier can be PLATINUM in the writer schema, which enum com.acme.Tier of the reader schema does not have (and it has no default)",
    ]);
  });

  it('a renamed record type is unreadable unless the reader lists the old name in aliases', () => {
    const mapping = mappingOf(MAPPING);
    const writer = { ...record(READER_FIELDS), name: 'Client' };
    const problems = evolutionProblems({
      file: 'mapping.yaml',
      uses: mapping.pathUses('t'),
      writer: parseAvroSchema(writer),
      reader: mapping.readerSchema('t'),
    });
    expect(problems.map((p) => p.kind)).toEqual(['unreadable']);
    expect(problems[0]?.message).toContain('a named type must keep its name, or list the old one in aliases');
  });
});

describe('schema evolution without a reader schema (registry-only topics)', () => {
  const registryOnly = () => mappingOf(MAPPING, null);

  it('checks each registered version on its own: no reader/writer verdict, symbols named as missing', () => {
    expect(evolve(READER_FIELDS, registryOnly())).toEqual([]);
    expect(evolve(changed('total'), registryOnly())).toEqual([
      'path-gone 10:22 mappings[0].attributes.total.path: path total is not in schema com.acme.Customer: record com.acme.Customer has no field "total"',
    ]);
    expect(evolve(changed('kind', { name: 'kind', type: { ...KIND, symbols: ['CREATED'] } }), registryOnly())).toEqual([
      'symbol-gone 5:40 mappings[0].when[0].in[1]: kind is an enum com.acme.Kind, which has no symbol "UPDATED", so the condition on kind (in) can never match it; its symbols are CREATED',
    ]);
  });

  it('a type change no transform rejects is not a problem when there is nothing to compare with', () => {
    expect(evolve(changed('email', { name: 'email', type: ['null', 'int'], default: null }), registryOnly())).toEqual([]);
  });
});
