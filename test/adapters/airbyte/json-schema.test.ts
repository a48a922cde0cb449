import { join } from 'node:path';
import { Ajv } from 'ajv';
import type { Type } from 'avsc';
import { describe, expect, it } from 'vitest';
import { avroToJsonSchema, type JsonSchemaNode } from '../../../connector/adapters/airbyte/json-schema.js';
import { parseAvroSchema } from '../../../connector/core/avro-types.js';
import { generateSampleEvents, SAMPLE_TOPICS, type SampleTopic } from '../../../connector/tools/sample-events.js';
import { loadAvroSchema } from '../../../connector/adapters/mapping-file/schema-file.js';
import { ROOT } from '../../support/delivery-harness.js';

const SCHEMA_FILES: Record<SampleTopic, string> = {
  [SAMPLE_TOPICS.crm]: 'crm-customer-updated.avsc',
  [SAMPLE_TOPICS.loyalty]: 'loyalty-card-swiped.avsc',
  [SAMPLE_TOPICS.transaction]: 'transaction-completed.avsc',
};

async function sampleSchema(topic: SampleTopic): Promise<JsonSchemaNode> {
  return avroToJsonSchema(await loadAvroSchema(join(ROOT, 'schemas', SCHEMA_FILES[topic])));
}

/** Ajv with the three formats the conversion uses, so format mistakes fail validation too. */
function validator(schema: JsonSchemaNode) {
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i);
  return ajv.compile(schema);
}

/** A sample event as a RECORD message carries it: plain JSON. */
function asJson(value: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

describe('Avro → JSON Schema on the sample schemas', () => {
  it('describes the loyalty swipe exactly', async () => {
    expect(await sampleSchema(SAMPLE_TOPICS.loyalty)).toEqual({
      $schema: 'http://json-schema.org/draft-07/schema#',
      description: 'A loyalty card was presented at a till, a kiosk or in the app.',
      type: 'object',
      properties: {
        eventId: { type: 'string', format: 'uuid' },
        swipedAt: { type: 'string', format: 'date-time', airbyte_type: 'timestamp_with_timezone' },
        card: {
          type: 'object',
          properties: {
            number: { type: 'string' },
            customerId: { type: 'string' },
            program: { type: 'string', enum: ['STANDARD', 'FAMILY', 'BUSINESS'] },
          },
          required: ['number', 'customerId', 'program'],
        },
        store: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            name: { type: 'string' },
            city: { type: ['null', 'string'] },
            country: { type: 'string' },
          },
          required: ['id', 'name', 'country'],
        },
        channel: { type: 'string', enum: ['POS', 'KIOSK', 'APP'] },
        pointsDelta: { type: 'integer' },
        pointsBalance: { type: 'integer' },
      },
      required: ['eventId', 'swipedAt', 'card', 'store', 'channel', 'pointsDelta', 'pointsBalance'],
    });
  });

  it('maps the CRM schema: nullable unions, nullable records, date, decimal, arrays, maps, defaults not required', async () => {
    const schema = await sampleSchema(SAMPLE_TOPICS.crm);
    const customer = schema.properties?.customer as JsonSchemaNode;
    const props = customer.properties ?? {};
    expect(schema.properties?.eventType).toEqual({ type: 'string', enum: ['CREATED', 'UPDATED', 'DELETED', 'MERGED'] });
    expect(schema.properties?.customFields).toEqual({ type: 'object', additionalProperties: { type: 'string' } });
    expect(schema.properties?.preferences).toEqual({
      type: 'object',
      properties: { categories: { type: 'array', items: { type: 'string' } }, language: { type: ['null', 'string'] } },
      required: [],
    });
    expect(props.id).toEqual({ type: 'string', description: 'CRM customer id; the Target mbox3rdPartyId.' });
    expect(props.birthDate).toEqual({ type: ['null', 'string'], format: 'date' });
    expect(props.lifetimeValue).toEqual({ type: ['null', 'string'], pattern: '^[+-]?\\d{1,10}(\\.\\d{1,2})?$' });
    expect(props.address).toMatchObject({ type: ['null', 'object'], required: ['country'] });
    expect(schema.required).toEqual(['eventId', 'eventType', 'updatedAt', 'customer', 'preferences']);
    expect(customer.required).toEqual(['id', 'tier', 'contact', 'consent']);
  });

  it('maps the transaction schema: micros timestamps, dates, decimals on bytes and fixed, arrays of records', async () => {
    const props = (await sampleSchema(SAMPLE_TOPICS.transaction)).properties ?? {};
    expect(props.completedAt).toEqual({ type: 'string', format: 'date-time', airbyte_type: 'timestamp_with_timezone' });
    expect(props.businessDate).toEqual({ type: 'string', format: 'date' });
    expect(props.amount).toEqual({ type: 'string', pattern: '^[+-]?\\d{1,10}(\\.\\d{1,2})?$' });
    expect(props.discount).toEqual({ type: 'string', pattern: '^[+-]?\\d{1,14}(\\.\\d{1,4})?$' });
    expect(props.lineItems).toMatchObject({
      type: 'array',
      items: { type: 'object', required: ['sku', 'name', 'quantity', 'unitPrice'] },
    });
  });

  it('accepts every sample event in its JSON form, and rejects what does not fit', async () => {
    for (const topic of Object.values(SAMPLE_TOPICS)) {
      const validate = validator(await sampleSchema(topic));
      for (const event of generateSampleEvents({ count: 60, topics: [topic], seed: 3 })) {
        expect(validate(asJson(event.value)), `${topic}: ${JSON.stringify(validate.errors)}`).toBe(true);
      }
    }
    const [txn] = generateSampleEvents({ count: 1, topics: [SAMPLE_TOPICS.transaction] });
    const validate = validator(await sampleSchema(SAMPLE_TOPICS.transaction));
    const good = asJson(txn?.value);
    expect(validate({ ...good, paymentMethod: 'BARTER' })).toBe(false);
    expect(validate({ ...good, amount: '12.345' })).toBe(false);
    expect(validate({ ...good, amount: '12345678901.00' })).toBe(false);
    expect(validate({ ...good, businessDate: '5 January' })).toBe(false);
    const { currency: _dropped, ...missingCurrency } = good;
    expect(validate(missingCurrency)).toBe(false);
  });
});

describe('Avro → JSON Schema edge cases', () => {
  const convert = (schema: unknown): JsonSchemaNode => avroToJsonSchema(parseAvroSchema(schema));

  it('turns a union of several types into anyOf, with null first when nullable', () => {
    expect(convert(['null', 'string', 'long'])).toEqual({
      $schema: 'http://json-schema.org/draft-07/schema#',
      anyOf: [{ type: 'null' }, { type: 'string' }, { type: 'integer' }],
    });
  });

  it('allows null in a nullable enum list', () => {
    const { $schema: _, ...schema } = convert(['null', { type: 'enum', name: 'E', symbols: ['A', 'B'] }]);
    expect(schema).toEqual({ type: ['null', 'string'], enum: ['A', 'B', null] });
  });

  it('describes bytes, fixed and floating point, and a decimal without integer digits', () => {
    const schema = convert({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'raw', type: 'bytes' },
        { name: 'hash', type: { type: 'fixed', name: 'H', size: 4 } },
        { name: 'ratio', type: 'double' },
        { name: 'share', type: { type: 'bytes', logicalType: 'decimal', precision: 2, scale: 2 } },
        { name: 'local', type: { type: 'long', logicalType: 'local-timestamp-millis' } },
      ],
    });
    expect(schema.properties).toEqual({
      raw: { type: 'string' },
      hash: { type: 'string' },
      ratio: { type: 'number' },
      share: { type: 'string', pattern: '^[+-]?0(\\.\\d{1,2})?$' },
      local: { type: 'string', format: 'date-time', airbyte_type: 'timestamp_without_timezone' },
    });
  });

  it('ends a recursive record instead of looping', () => {
    const type: Type = parseAvroSchema({
      type: 'record',
      name: 'Node',
      fields: [
        { name: 'label', type: 'string' },
        { name: 'next', type: ['null', 'Node'], default: null },
      ],
    });
    const schema = avroToJsonSchema(type);
    expect(schema.properties?.next).toEqual({ type: ['null', 'object'] });
  });
});
