import type { Admin } from 'kafkajs';

/** Per-partition distance between a topic's end and the group's committed offset. */
export interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

/**
 * Reads how far the group's committed offsets are behind the end of each topic. A partition the
 * group never committed counts from its earliest offset, or, when the group starts at the latest
 * (`fromBeginning` false), is left out: where it stands is not Kafka's to say yet.
 */
export async function groupLag(admin: Admin, groupId: string, topics: string[], fromBeginning = true): Promise<PartitionLag[]> {
  const committed = await admin.fetchOffsets({ groupId, topics });
  const lags: PartitionLag[] = [];
  for (const { topic, partitions } of committed) {
    const ends = await admin.fetchTopicOffsets(topic);
    for (const end of ends) {
      const done = partitions.find((p) => p.partition === end.partition);
      const committed = done !== undefined && Number(done.offset) >= 0;
      if (!committed && !fromBeginning) continue;
      const low = Number(end.low);
      const at = committed ? Number(done.offset) : low;
      lags.push({ topic, partition: end.partition, lag: Math.max(0, Number(end.high) - at) });
    }
  }
  return lags;
}
