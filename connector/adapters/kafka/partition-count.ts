/** How many partitions the mapped topics have: the denominator of a member's quota share. */
import type { Admin } from 'kafkajs';
import { retryingKafka } from './retriable.js';

/** The number of partitions of `topics` together, from the cluster's metadata. */
export async function partitionCount(admin: Admin, topics: string[]): Promise<number> {
  const { topics: found } = await retryingKafka(() => admin.fetchTopicMetadata({ topics }));
  return found.reduce((sum, topic) => sum + topic.partitions.length, 0);
}
