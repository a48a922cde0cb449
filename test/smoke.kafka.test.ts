import { describe, expect, it } from 'vitest';
import avro from 'avsc';
import { createTopics, testKafka, uniqueTopic } from './support/kafka.js';

const schema = avro.Type.forSchema({
  type: 'record',
  name: 'Swipe',
  fields: [
    { name: 'cardId', type: 'string' },
    { name: 'points', type: 'int' },
    { name: 'store', type: ['null', 'string'], default: null },
  ],
});

describe('real Kafka broker', () => {
  it('round-trips an Avro message through a consumer group', async () => {
    const topic = uniqueTopic('smoke');
    await createTopics([topic], 2);
    const kafka = testKafka('smoke');
    const producer = kafka.producer();
    await producer.connect();
    const sent = { cardId: 'C-1', points: 42, store: 'Malmö' };
    await producer.send({ topic, messages: [{ key: 'C-1', value: schema.toBuffer(sent) }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: `${topic}.group` });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const received = await new Promise<unknown>((resolve, reject) => {
      consumer.run({ eachMessage: async ({ message }) => resolve(schema.fromBuffer(message.value as Buffer)) }).catch(reject);
    });
    await consumer.disconnect();
    expect(received).toEqual(sent);
  }, 60_000);
});
