/**
 * The demo's real-time door at work: once the backlog is delivered, loyalty-card swipes are
 * produced one at a time, as a store would send them, and each is timed from its produce call to
 * the moment the sandbox holds its profile parameters (the loyalty mapping takes the Delivery API).
 */
import type { Type } from 'avsc';
import { Partitioners, type Kafka } from 'kafkajs';
import { generateSampleEvents, SAMPLE_TOPICS } from '../sample-events.js';
import type { Sandbox } from '../sandbox/server.js';

/** How often the sandbox is looked at while a swipe is on its way. */
const POLL_MS = 2;
/** A swipe not applied by then is reported as not applied (the connector retries; nothing is lost). */
const GIVE_UP_MS = 10_000;

/** Produce → applied of each live swipe, in ms, in the order produced; missing ones were not applied within 10 s. */
export interface LiveSwipes {
  produced: number;
  appliedMs: number[];
}

/** Produces `count` swipes for customers no backlog event names, one after the other, timing each until applied. */
export async function timeLiveSwipes(kafka: Kafka, sandbox: Sandbox, topic: string, type: Type, count: number, signal?: AbortSignal): Promise<LiveSwipes> {
  const swipes = generateSampleEvents({ count, seed: 7, topics: [SAMPLE_TOPICS.loyalty] });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const appliedMs: number[] = [];
  try {
    for (const [i, swipe] of swipes.entries()) {
      signal?.throwIfAborted();
      // A customer of its own, so that "applied" means this swipe's parameters reached the profile.
      const customer = `LIVE-${String(i + 1).padStart(4, '0')}`;
      const value = { ...swipe.value, card: { ...(swipe.value.card as Record<string, unknown>), customerId: customer } };
      const sentAt = performance.now();
      await producer.send({ topic, acks: 1, messages: [{ key: customer, value: type.toBuffer(value) }] });
      while (sandbox.profile('mbox3rdPartyId', customer) === undefined && performance.now() - sentAt < GIVE_UP_MS) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
      if (sandbox.profile('mbox3rdPartyId', customer) !== undefined) appliedMs.push(performance.now() - sentAt);
    }
  } finally {
    await producer.disconnect();
  }
  return { produced: swipes.length, appliedMs };
}
