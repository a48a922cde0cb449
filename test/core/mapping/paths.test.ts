import { describe, expect, it } from 'vitest';
import { parseAvroSchema } from '../../../connector/core/avro-types.js';
import { compileGetter, formatPath, parsePath, resolvePathType, type Segment } from '../../../connector/core/mapping/paths.js';

function segments(text: string): Segment[] {
  const parsed = parsePath(text);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.segments;
}

const get = (text: string, root: unknown) => compileGetter(segments(text))(root);

describe('path syntax', () => {
  it('parses dotted fields, array indexes and quoted map keys', () => {
    expect(segments('customer.address.city')).toEqual([
      { kind: 'key', name: 'customer' },
      { kind: 'key', name: 'address' },
      { kind: 'key', name: 'city' },
    ]);
    expect(segments('lineItems[0].sku')).toEqual([
      { kind: 'key', name: 'lineItems' },
      { kind: 'index', index: 0 },
      { kind: 'key', name: 'sku' },
    ]);
    expect(segments('customFields["store.id"]')).toEqual([
      { kind: 'key', name: 'customFields' },
      { kind: 'key', name: 'store.id' },
    ]);
    expect(segments("m['a b'][2]")).toEqual([
      { kind: 'key', name: 'm' },
      { kind: 'key', name: 'a b' },
      { kind: 'index', index: 2 },
    ]);
    expect(segments('[1].x')).toEqual([
      { kind: 'index', index: 1 },
      { kind: 'key', name: 'x' },
    ]);
    expect(segments('custom-field')).toEqual([{ kind: 'key', name: 'custom-field' }]);
  });

  it('reports where a path stops making sense', () => {
    expect(parsePath('a..b')).toEqual({ error: 'path "a..b" has no field name at character 3' });
    expect(parsePath('.a')).toEqual({ error: 'path ".a" starts with "."' });
    expect(parsePath('items[x]')).toMatchObject({ error: expect.stringContaining('at character 6') as string });
    expect(parsePath('items[0')).toMatchObject({ error: expect.stringContaining('at character 6') as string });
    expect(parsePath('a b')).toMatchObject({ error: expect.stringContaining('at character 2') as string });
    expect(parsePath('')).toEqual({ error: 'path is empty' });
  });

  it('formats segments back to the syntax users write', () => {
    for (const text of ['customer.address.city', 'lineItems[0].sku', 'customFields["store.id"]', '[1].x']) {
      expect(formatPath(segments(text))).toBe(text);
    }
  });
});

describe('getters', () => {
  const event = {
    customer: { address: { city: 'Malmö' }, tier: 'GOLD', nothing: null },
    lineItems: [{ sku: 'A' }, { sku: 'B' }],
    customFields: { 'store.id': 'S-1', constructor: 'mine' },
  };

  it('read nested fields, array items and map keys', () => {
    expect(get('customer.address.city', event)).toBe('Malmö');
    expect(get('lineItems[1].sku', event)).toBe('B');
    expect(get('customFields["store.id"]', event)).toBe('S-1');
  });

  it('yield undefined for anything missing instead of throwing', () => {
    expect(get('customer.nothing.city', event)).toBeUndefined();
    expect(get('lineItems[5].sku', event)).toBeUndefined();
    expect(get('customer[0]', event)).toBeUndefined();
    expect(get('customer.tier.length', event)).toBeUndefined();
    expect(get('a', null)).toBeUndefined();
  });

  it('never reach inherited members, but read own keys of the same name', () => {
    expect(get('customer.constructor', event)).toBeUndefined();
    expect(get('customer.toString', event)).toBeUndefined();
    expect(get('customFields.constructor', event)).toBe('mine');
  });
});

describe('static path check', () => {
  const type = parseAvroSchema({
    type: 'record',
    name: 'Order',
    namespace: 'shop',
    fields: [
      {
        name: 'customer',
        type: ['null', { type: 'record', name: 'Customer', fields: [{ name: 'email', type: ['null', 'string'] }] }],
      },
      { name: 'items', type: { type: 'array', items: { type: 'record', name: 'Item', fields: [{ name: 'sku', type: 'string' }] } } },
      { name: 'tags', type: { type: 'map', values: 'string' } },
      { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
    ],
  });
  const check = (text: string) => {
    const result = resolvePathType(type, segments(text));
    return 'error' in result ? result.error : result.types.map((t) => t.typeName).join(' | ');
  };

  it('resolves through unions, arrays and maps', () => {
    expect(check('customer.email')).toBe('string');
    expect(check('items[0].sku')).toBe('string');
    expect(check('tags.anything')).toBe('string');
    expect(check('tags["a.b"]')).toBe('string');
    expect(check('at')).toBe('logical:timestamp-millis');
  });

  it('says where the path leaves the schema, with a suggestion', () => {
    expect(check('customer.emial')).toBe('record shop.Customer has no field "emial" (did you mean "email"?)');
    expect(check('items.sku')).toBe('items is an array; use items[0].sku');
    expect(check('tags[0]')).toBe('tags is a map; use tags["key"]');
    expect(check('customer[0]')).toBe('customer is a record, not an array');
    expect(check('items[0].sku.x')).toBe('items[0].sku is a string; it has no field "x"');
    expect(check('at.x')).toBe('at is a timestamp-millis (long); it has no field "x"');
  });
});
