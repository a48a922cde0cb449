/** A consumer kafkajs gave up on (a crash it will not restart): the run ends, and stopping it does not throw. */
import type { Kafka } from 'kafkajs';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { KafkaSource } from '../../../connector/adapters/kafka/consumer.js';

const EVENTS = {
  GROUP_JOIN: 'join',
  REBALANCING: 'rebalancing',
  CRASH: 'crash',
  HEARTBEAT: 'heartbeat',
  FETCH: 'fetch',
  COMMIT_OFFSETS: 'commit',
  REQUEST_TIMEOUT: 'timeout',
};

/** The part of a kafkajs consumer KafkaSource uses before it runs, with kafkajs's behaviour after a crash: pause throws. */
function crashingKafka() {
  const listeners = new Map<string, (e: unknown) => void>();
  let crashed = false;
  const consumer = {
    events: EVENTS,
    on: (event: string, listener: (e: unknown) => void) => listeners.set(event, listener),
    pause: () => {
      if (crashed) throw new Error('Consumer group was not initialized, consumer#run must be called first');
    },
  };
  const crash = () => {
    crashed = true;
    listeners.get(EVENTS.CRASH)?.({ payload: { error: new TypeError('a bug in eachBatch'), restart: false } });
  };
  return { kafka: { consumer: () => consumer } as unknown as Kafka, crash };
}

describe('KafkaSource after a crash kafkajs will not restart', () => {
  it('reports it as fatal, and the pause that stopping the run asks for does not throw', () => {
    const { kafka, crash } = crashingKafka();
    const fatal: unknown[] = [];
    const source = new KafkaSource({
      kafka,
      groupId: 'g',
      topics: ['t'],
      fromBeginning: true,
      sessionTimeoutMs: 10_000,
      logger: pino({ level: 'silent' }),
      // The run's fatal handler halts the pipeline, which pauses the source.
      fatal: { fatal: (error) => (fatal.push(error), source.pause()) },
    });
    expect(() => crash()).not.toThrow();
    expect(fatal).toHaveLength(1);
  });
});
