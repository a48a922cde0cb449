import { describe, expect, it } from 'vitest';
import { parseAvroSchema } from '../../../connector/core/avro-types.js';
import { parsePath } from '../../../connector/core/mapping/paths.js';
import { projectReaderSchema } from '../../../connector/core/mapping/projection.js';

const reads = (...paths: string[]) =>
  paths.map((path) => {
    const parsed = parsePath(path);
    if ('error' in parsed) throw new Error(parsed.error);
    return parsed.segments;
  });

const ORDER = parseAvroSchema({
  type: 'record',
  name: 'Order',
  namespace: 'shop',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'note', type: ['null', 'string'] },
    { name: 'billing', type: { type: 'record', name: 'Address', fields: [{ name: 'city', type: 'string' }] } },
    { name: 'shipping', type: 'Address' },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['NEW', 'PAID'] } },
    { name: 'placedAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
});

const order = {
  id: 'o-1',
  note: 'fragile',
  billing: { city: 'Lund' },
  shipping: { city: 'Malmö' },
  status: 'PAID',
  placedAt: new Date('2026-01-02T03:04:05.006Z'),
};

describe('projectReaderSchema', () => {
  it('leaves out unread fields whose skip fails like their read, keeping enums and longs', () => {
    const narrowed = projectReaderSchema(ORDER, reads('shipping.city', 'id')) as NonNullable<ReturnType<typeof projectReaderSchema>>;
    const value = narrowed.fromBuffer(ORDER.toBuffer(order), narrowed.createResolver(ORDER)) as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['id', 'shipping', 'status', 'placedAt']);
    expect(value.shipping).toEqual({ city: 'Malmö' });
  });

  it('writes a named type out at its next reference when the field defining it is left out', () => {
    const narrowed = projectReaderSchema(ORDER, reads('shipping.city'));
    expect(narrowed?.schema()).toMatchObject({
      fields: expect.arrayContaining([{ name: 'shipping', type: { name: 'shop.Address', type: 'record', fields: [{ name: 'city', type: 'string' }] } }]),
    });
  });

  it('keeps everything under a path that ends at a record, and gives nothing when no field can go', () => {
    expect(projectReaderSchema(ORDER, reads('id', 'note', 'billing', 'shipping'))).toBeUndefined();
  });
});
