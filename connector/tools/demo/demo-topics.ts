/**
 * The demo's topics: the three sample topics and a dead-letter topic under a name fresh to each
 * run, so a second run never reads the first one's events or commits.
 */
import { randomBytes } from 'node:crypto';
import type { Admin } from 'kafkajs';
import { SAMPLE_TOPICS, type SampleTopic } from '../sample-events.js';
import { retryingKafka } from '../../adapters/kafka/retriable.js';

/** One run's topic names and consumer group. */
export interface DemoTopics {
  /** e.g. `demo.20260105-080000-3fa2`; prefix of every topic and the group id. */
  runId: string;
  bySample: Record<SampleTopic, string>;
  deadLetter: string;
  groupId: string;
}

/** Fresh names under `prefix` for a run started at `now`; the random suffix separates runs within one second. */
export function demoTopicNames(now = new Date(), suffix = randomBytes(2).toString('hex'), prefix = 'demo'): DemoTopics {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const runId = `${prefix}.${stamp}-${suffix}`;
  return {
    runId,
    bySample: {
      [SAMPLE_TOPICS.crm]: `${runId}.crm.customer.updated`,
      [SAMPLE_TOPICS.loyalty]: `${runId}.loyalty.card.swiped`,
      [SAMPLE_TOPICS.transaction]: `${runId}.transaction.completed`,
    },
    deadLetter: `${runId}.dlq`,
    groupId: `${runId}.target-profile-sink`,
  };
}

/** The topics the connector consumes. */
export function sourceTopics(topics: DemoTopics): string[] {
  return Object.values(topics.bySample);
}

/** Creates the source topics with `partitions` partitions each and a one-partition dead-letter topic. */
export async function createDemoTopics(admin: Admin, topics: DemoTopics, partitions: number): Promise<void> {
  // Created up front rather than by auto-creation, which races with the consumer's first fetch.
  await admin.createTopics({
    waitForLeaders: true,
    topics: [...sourceTopics(topics).map((topic) => ({ topic, numPartitions: partitions })), { topic: topics.deadLetter, numPartitions: 1 }],
  });
}

/**
 * Resolves once the broker can serve the run's consumer group. On a fresh broker the offsets topic
 * is created on first use and its coordinator loads for a few seconds; waiting here keeps the
 * connector's first join from logging that delay as errors.
 */
export async function awaitGroupCoordinator(admin: Admin, topics: DemoTopics, timeoutMs = 30_000): Promise<void> {
  // kafkajs retries a missing coordinator itself, but not one that is still loading.
  await retryingKafka(() => admin.fetchOffsets({ groupId: topics.groupId, topics: sourceTopics(topics) }), timeoutMs);
}

/** Deletes the run's topics, so repeated demos leave nothing behind on the cluster. */
export async function deleteDemoTopics(admin: Admin, topics: DemoTopics): Promise<void> {
  await admin.deleteTopics({ topics: [...sourceTopics(topics), topics.deadLetter] });
}

/** Deletes the run's consumer group; call once its consumer has left. */
export async function deleteDemoGroup(admin: Admin, topics: DemoTopics): Promise<void> {
  await admin.deleteGroups([topics.groupId]);
}
