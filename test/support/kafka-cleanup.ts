/** Deletes the consumer groups and topics a test run or file created, found by their name prefix. */
import { Kafka, logLevel, type Admin } from 'kafkajs';

/** How long to keep trying, and how to describe what is left. */
export interface CleanupOptions {
  /**
   * A group whose consumer was not disconnected (a failed test) keeps its member until the
   * session times out, and cannot be deleted before; this is how long to wait for that.
   */
  patienceMs: number;
}

/** Deletes every group, then every topic, whose name starts with `prefix`; resolves with what is left. */
export async function deleteKafkaNames(brokers: string[], prefix: string, options: CleanupOptions): Promise<string[]> {
  // Silent: a group that is not empty yet is an expected, retried answer, not something to log.
  const admin = new Kafka({ clientId: 'test-cleanup', brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const giveUpAt = Date.now() + options.patienceMs;
    for (;;) {
      const left = await leftovers(admin, prefix);
      if (left.groups.length === 0 && left.topics.length === 0) return [];
      if (Date.now() > giveUpAt) return [...left.groups.map((g) => `group ${g}`), ...left.topics.map((t) => `topic ${t}`)];
      // One group at a time: kafkajs fails the whole call when one group is still in use.
      for (const group of left.groups) await admin.deleteGroups([group]).catch(() => undefined);
      if (left.topics.length > 0) await admin.deleteTopics({ topics: left.topics }).catch(() => undefined);
      await new Promise((r) => setTimeout(r, left.groups.length > 0 ? 1000 : 200));
    }
  } finally {
    await admin.disconnect();
  }
}

async function leftovers(admin: Admin, prefix: string): Promise<{ groups: string[]; topics: string[] }> {
  const [{ groups }, topics] = await Promise.all([admin.listGroups(), admin.listTopics()]);
  return {
    groups: groups.map((g) => g.groupId).filter((id) => id.startsWith(prefix)),
    topics: topics.filter((t) => t.startsWith(prefix)),
  };
}
