import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateSampleEvents, SAMPLE_TOPICS } from '../../connector/tools/sample-events.js';
import { loadAvroSchema } from '../../connector/adapters/mapping-file/schema-file.js';

const schemaFile = (name: string) => fileURLToPath(new URL(`../../schemas/${name}.avsc`, import.meta.url));
const schemas = {
  [SAMPLE_TOPICS.crm]: await loadAvroSchema(schemaFile('crm-customer-updated')),
  [SAMPLE_TOPICS.loyalty]: await loadAvroSchema(schemaFile('loyalty-card-swiped')),
  [SAMPLE_TOPICS.transaction]: await loadAvroSchema(schemaFile('transaction-completed')),
};

describe('sample event generator', () => {
  it('gives the same events for the same seed and different ones for another seed', () => {
    const a = generateSampleEvents({ count: 50, customers: 10, seed: 7 });
    expect(generateSampleEvents({ count: 50, customers: 10, seed: 7 })).toEqual(a);
    expect(generateSampleEvents({ count: 50, customers: 10, seed: 8 })).not.toEqual(a);
  });

  it('every event is valid for its sample schema and survives an Avro round trip', () => {
    for (const event of generateSampleEvents({ count: 600, customers: 40, seed: 3 })) {
      const type = schemas[event.topic];
      expect(type.isValid(event.value)).toBe(true);
      expect(type.fromBuffer(type.toBuffer(event.value))).toEqual(event.value);
    }
  });

  it('spreads events over exactly the requested customers and topics, keyed by customer', () => {
    const events = generateSampleEvents({ count: 2000, customers: 25, seed: 1 });
    expect(new Set(events.map((e) => e.key)).size).toBe(25);
    expect(new Set(events.map((e) => e.topic))).toEqual(new Set(Object.values(SAMPLE_TOPICS)));
    const crm = events.find((e) => e.topic === SAMPLE_TOPICS.crm);
    expect((crm?.value.customer as { id: string }).id).toBe(crm?.key);
  });

  it('draws only from the topics asked for, with increasing timestamps', () => {
    const events = generateSampleEvents({ count: 100, topics: [SAMPLE_TOPICS.loyalty], start: new Date(0) });
    expect(events.every((e) => e.topic === SAMPLE_TOPICS.loyalty)).toBe(true);
    const times = events.map((e) => (e.value.swipedAt as Date).getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(times[0]).toBeGreaterThan(0);
  });
});
