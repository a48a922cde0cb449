import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseAvroSchema } from '../../../connector/core/avro-types.js';
import { createDecoder, type Decoder } from '../../../connector/adapters/avro/decoder.js';
import { createRegistryClient, type RegistryClient } from '../../../connector/adapters/registry/registry.js';
import { DecodeError, RegistryRejectedError, RegistryUnavailableError } from '../../../connector/core/errors.js';
import { Decimal } from '../../../connector/core/values.js';
import { framed, startFakeRegistry, type FakeRegistry } from '../../support/fake-registry.js';

const TOPIC = 'loyalty.card.swiped';
const ORIGIN = { topic: TOPIC, partition: 3, offset: '42' };

const V1 = {
  type: 'record',
  name: 'Swipe',
  namespace: 'test',
  fields: [
    { name: 'cardId', type: 'string' },
    { name: 'points', type: 'int' },
    { name: 'store', type: ['null', 'string'], default: null },
    { name: 'legacyCode', type: 'string', default: '' },
  ],
};
/** V1 evolved: points promoted int → long, legacyCode removed, channel added with a default. */
const V2 = {
  type: 'record',
  name: 'Swipe',
  namespace: 'test',
  fields: [
    { name: 'cardId', type: 'string' },
    { name: 'points', type: 'long' },
    { name: 'store', type: ['null', 'string'], default: null },
    { name: 'channel', type: 'string', default: 'POS' },
    { name: 'amount', type: ['null', { type: 'bytes', logicalType: 'decimal', precision: 8, scale: 2 }], default: null },
  ],
};
const v1 = parseAvroSchema(V1);
const v2 = parseAvroSchema(V2);
const fastRetries = { attempts: 3, backoffMs: 5 };

function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError);
    return err as DecodeError;
  }
  throw new Error('expected a DecodeError');
}

describe('plain Avro', () => {
  const decoder = createDecoder({ readerSchemas: new Map([[TOPIC, v1]]) });

  it('decodes synchronously with the topic reader schema', () => {
    const value = decoder.decode(TOPIC, v1.toBuffer({ cardId: 'C-1', points: 5, store: 'Malmö & Co', legacyCode: 'x' }), ORIGIN);
    expect(value).not.toBeInstanceOf(Promise);
    expect(value).toEqual({ cardId: 'C-1', points: 5, store: 'Malmö & Co', legacyCode: 'x' });
  });

  it('truncated bytes are a DecodeError naming topic, partition, offset, the field and the byte', () => {
    const bytes = v1.toBuffer({ cardId: 'C-1', points: 5, store: null, legacyCode: '' });
    const err = decodeError(() => decoder.decode(TOPIC, bytes.subarray(0, 2), ORIGIN));
    expect(err.retryable).toBe(false);
    expect(err.origin).toEqual(ORIGIN);
    expect(err.message).toBe(
      'cannot decode loyalty.card.swiped[3]@42: not Avro for schema test.Swipe: expected a string of 3 bytes for field cardId at byte 0, but the value has only 2 bytes',
    );
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('a value that ends before a field says which field and where', () => {
    const bytes = v1.toBuffer({ cardId: 'C-1', points: 5, store: null, legacyCode: '' });
    expect(decodeError(() => decoder.decode(TOPIC, bytes.subarray(0, 4), ORIGIN)).message).toBe(
      'cannot decode loyalty.card.swiped[3]@42: not Avro for schema test.Swipe: expected an int for field points at byte 4, but the value has only 4 bytes',
    );
  });

  it('a union branch the schema does not have names the field and its branches', () => {
    const bytes = Buffer.from([6, 0x43, 0x2d, 0x31, 10, 8, 0]);
    expect(decodeError(() => decoder.decode(TOPIC, bytes, ORIGIN)).message).toBe(
      'cannot decode loyalty.card.swiped[3]@42: not Avro for schema test.Swipe: field store at byte 5 has union branch 4, but its type has 2 branches (null, string)',
    );
  });

  it('trailing bytes say the value was written with another schema', () => {
    const bytes = Buffer.concat([v1.toBuffer({ cardId: 'C-1', points: 5, store: null, legacyCode: '' }), Buffer.from([0, 0])]);
    expect(decodeError(() => decoder.decode(TOPIC, bytes, ORIGIN)).message).toBe(
      'cannot decode loyalty.card.swiped[3]@42: 2 bytes left after the record: the value was not written with schema test.Swipe',
    );
  });

  it('JSON is called JSON', () => {
    const bytes = Buffer.from(JSON.stringify({ cardId: 'C-1', points: 5 }));
    expect(decodeError(() => decoder.decode(TOPIC, bytes, ORIGIN)).message).toBe(
      'cannot decode loyalty.card.swiped[3]@42: value is JSON, not Avro: schema test.Swipe needs the Avro binary encoding',
    );
  });

  it('a Confluent-framed value without a configured registry says so', () => {
    const bytes = framed(7, v1.toBuffer({ cardId: 'C-1', points: 5, store: null, legacyCode: '' }));
    expect(decodeError(() => decoder.decode(TOPIC, bytes, ORIGIN)).message).toBe(
      'cannot decode loyalty.card.swiped[3]@42: value looks Confluent-framed (magic byte 0, schema id 7) but no schema_registry is configured',
    );
  });

  it('a topic without a reader schema is a DecodeError', () => {
    expect(decodeError(() => decoder.decode('other', Buffer.alloc(1), { topic: 'other' })).message).toMatch(/no reader schema/);
  });
});

describe('Confluent wire format with a schema registry', () => {
  let registry: FakeRegistry;
  let client: RegistryClient | undefined;

  beforeEach(async () => {
    registry = await startFakeRegistry();
    registry.register(`${TOPIC}-value`, 1, V1);
    registry.register(`${TOPIC}-value`, 2, V2, 2);
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await registry.close();
  });

  function open(readerSchemas = new Map([[TOPIC, v2]])): Decoder {
    client = createRegistryClient({ url: registry.url }, fastRetries);
    return createDecoder({ readerSchemas, registry: client });
  }

  it('resolves an older writer schema to the reader: added field default, removed field, int → long', async () => {
    const d = open();
    const bytes = framed(1, v1.toBuffer({ cardId: 'C-1', points: 7, store: 'S-1', legacyCode: 'gone' }));
    const value = await d.decode(TOPIC, bytes, ORIGIN);
    expect(value).toEqual({ cardId: 'C-1', points: 7, store: 'S-1', channel: 'POS', amount: null });
  });

  it('fetches each schema id once, then decodes synchronously', async () => {
    const d = open();
    const bytes = framed(2, v2.toBuffer({ cardId: 'C-2', points: 2 ** 40, store: null, channel: 'APP', amount: '12.50' }));
    const first = d.decode(TOPIC, bytes, ORIGIN);
    expect(first).toBeInstanceOf(Promise);
    const value = (await first) as { points: number; amount: Decimal };
    expect(value.points).toBe(2 ** 40);
    expect(String(value.amount)).toBe('12.50');
    const second = d.decode(TOPIC, bytes, ORIGIN);
    expect(second).not.toBeInstanceOf(Promise);
    expect(second).toEqual(value);
    expect(registry.hits.get('/schemas/ids/2')).toBe(1);
  });

  it('without a reader schema, values are read with the writer schema', async () => {
    const d = open(new Map());
    const value = await d.decode(TOPIC, framed(1, v1.toBuffer({ cardId: 'C-3', points: 1, store: null, legacyCode: 'kept' })), ORIGIN);
    expect(value).toEqual({ cardId: 'C-3', points: 1, store: null, legacyCode: 'kept' });
  });

  it('plain Avro without the framing says it is plain Avro of the reader schema', () => {
    const d = open();
    const err = decodeError(() => d.decode(TOPIC, v2.toBuffer({ cardId: 'C', points: 1, store: null, channel: 'X', amount: null }), ORIGIN));
    expect(err.message).toBe(
      'cannot decode loyalty.card.swiped[3]@42: value is plain Avro of schema test.Swipe, without the Confluent framing (magic byte 0 + 4-byte schema id) that schema_registry expects',
    );
  });

  it('JSON or other bytes without the framing say what they are', () => {
    const d = open(new Map());
    expect(decodeError(() => d.decode(TOPIC, Buffer.from('{"cardId": "C"}'), ORIGIN)).message).toBe(
      'cannot decode loyalty.card.swiped[3]@42: value is JSON, not Avro with the Confluent framing (magic byte 0 + 4-byte schema id) that schema_registry expects',
    );
    expect(decodeError(() => d.decode(TOPIC, Buffer.from([0x7f, 1, 2, 3, 4, 5]), ORIGIN)).message).toBe(
      'cannot decode loyalty.card.swiped[3]@42: value starts with byte 0x7f, not the Confluent framing (magic byte 0 + 4-byte schema id) that schema_registry expects',
    );
    expect(decodeError(() => d.decode(TOPIC, Buffer.from([0, 0]), ORIGIN)).message).toBe(
      'cannot decode loyalty.card.swiped[3]@42: value has only 2 bytes, too few for the Confluent framing (magic byte 0 + 4-byte schema id) that schema_registry expects',
    );
  });

  it('plain Avro whose first byte is 0 is not blamed on an unknown schema id', async () => {
    const d = open();
    const bytes = v2.toBuffer({ cardId: '', points: 1, store: null, channel: 'X', amount: null });
    const err = await Promise.resolve(d.decode(TOPIC, bytes, ORIGIN)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).message).toBe(
      `cannot decode loyalty.card.swiped[3]@42: value is plain Avro of schema test.Swipe, without the Confluent framing (magic byte 0 + 4-byte schema id) that schema_registry expects (its first bytes read as schema id ${bytes.readInt32BE(1)}, which the registry does not have)`,
    );
  });

  it('a framed value that does not fit its writer schema names the field and the byte in the whole value', async () => {
    const d = open();
    const payload = v1.toBuffer({ cardId: 'C-1', points: 5, store: null, legacyCode: 'x' });
    const err = await Promise.resolve(d.decode(TOPIC, framed(1, payload.subarray(0, payload.length - 1)), ORIGIN)).catch((e: unknown) => e);
    expect((err as DecodeError).message).toBe(
      'cannot decode loyalty.card.swiped[3]@42: not Avro for writer schema test.Swipe (schema id 1): expected a string of 1 byte for field legacyCode at byte 11, but the value has only 12 bytes',
    );
  });

  it('an unknown schema id is a DecodeError caused by the registry rejection', async () => {
    const d = open();
    const err = await Promise.resolve(d.decode(TOPIC, framed(99, Buffer.from([2, 0x43])), ORIGIN)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).message).toMatch(/schema id 99/);
    expect((err as DecodeError).cause).toBeInstanceOf(RegistryRejectedError);
  });

  it('a writer schema the reader cannot read is a DecodeError', async () => {
    registry.register('other-value', 3, { type: 'record', name: 'Swipe', namespace: 'test', fields: [{ name: 'cardId', type: 'int' }] });
    const d = open();
    const err = await Promise.resolve(d.decode(TOPIC, framed(3, Buffer.from([2])), ORIGIN)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecodeError);
    expect((err as DecodeError).message).toBe(
      "cannot decode loyalty.card.swiped[3]@42: writer schema test.Swipe (schema id 3) cannot be read with the mapping's reader schema test.Swipe: field cardId is an int in the writer schema but a string in the reader schema",
    );
  });

  it('a reader field without a default that the writer lacks is named', async () => {
    registry.register('other-value', 4, { type: 'record', name: 'Swipe', namespace: 'test', fields: [{ name: 'cardId', type: 'string' }] });
    const d = open();
    const err = await Promise.resolve(d.decode(TOPIC, framed(4, Buffer.from([2, 0x43])), ORIGIN)).catch((e: unknown) => e);
    expect((err as DecodeError).message).toBe(
      "cannot decode loyalty.card.swiped[3]@42: writer schema test.Swipe (schema id 4) cannot be read with the mapping's reader schema test.Swipe: field points is not in the writer schema and has no default in the reader schema",
    );
  });

  it('retries 5xx answers and succeeds once the registry recovers', async () => {
    registry.failNext(2, 503);
    const d = open();
    const value = await d.decode(TOPIC, framed(1, v1.toBuffer({ cardId: 'C-4', points: 1, store: null, legacyCode: '' })), ORIGIN);
    expect(value).toMatchObject({ cardId: 'C-4' });
    expect(registry.hits.get('/schemas/ids/1')).toBe(3);
  });

  it('a registry that keeps failing is retryable RegistryUnavailableError, not a DecodeError, and is asked again later', async () => {
    registry.failNext(3, 500);
    const d = open();
    const bytes = framed(1, v1.toBuffer({ cardId: 'C-5', points: 1, store: null, legacyCode: '' }));
    const err = await Promise.resolve(d.decode(TOPIC, bytes, ORIGIN)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryUnavailableError);
    expect((err as RegistryUnavailableError).retryable).toBe(true);
    await expect(d.decode(TOPIC, bytes, ORIGIN)).resolves.toMatchObject({ cardId: 'C-5' });
  });
});

describe('registry client', () => {
  it('caches schemas per id, including concurrent first requests', async () => {
    const registry = await startFakeRegistry();
    registry.register('crm-value', 5, V1);
    const client = createRegistryClient({ url: registry.url }, fastRetries);
    const [a, b] = await Promise.all([client.schemaById(5), client.schemaById(5)]);
    const c = await client.schemaById(5);
    await client.close();
    await registry.close();
    expect(a).toBe(b);
    expect(c).toBe(a);
    expect(registry.hits.get('/schemas/ids/5')).toBe(1);
  });

  it('an unreachable registry is RegistryUnavailableError and the message holds no credentials', async () => {
    const client = createRegistryClient({ url: 'http://user:s3cret@127.0.0.1:9' }, fastRetries);
    const err = await client.schemaById(1).catch((e: unknown) => e);
    await client.close();
    expect(err).toBeInstanceOf(RegistryUnavailableError);
    expect((err as Error).message).toContain('http://127.0.0.1:9');
    expect((err as Error).message).not.toContain('s3cret');
  });

  it('sends basic auth from the config and reads the latest version of a subject', async () => {
    const expected = `Basic ${Buffer.from('sr-user:sr-pass').toString('base64')}`;
    const registry = await startFakeRegistry(expected);
    registry.register('crm-value', 11, V1, 4);
    const client = createRegistryClient({ url: registry.url, username: 'sr-user', password: 'sr-pass' }, fastRetries);
    const latest = await client.latestVersion('crm-value');
    await client.close();
    await registry.close();
    expect(latest).toMatchObject({ subject: 'crm-value', id: 11, version: 4 });
    expect(latest.type.equals(v1)).toBe(true);
    expect(registry.authorizations).toEqual([expected]);
  });

  it('wrong credentials (401) are a permanent RegistryRejectedError', async () => {
    const registry = await startFakeRegistry('Basic nope');
    registry.register('crm-value', 11, V1);
    const client = createRegistryClient({ url: registry.url }, fastRetries);
    const err = await client.latestVersion('crm-value').catch((e: unknown) => e);
    await client.close();
    await registry.close();
    expect(err).toBeInstanceOf(RegistryRejectedError);
    expect(registry.hits.get('/subjects/crm-value/versions/latest')).toBe(1);
  });
});
