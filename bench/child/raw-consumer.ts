/**
 * Ceiling (a): how fast kafkajs alone reads the pre-filled topic. Same client library and the
 * same consumer settings as the connector's source, nothing done with the records but counting.
 */
import { Kafka, logLevel } from 'kafkajs';
import { serve } from './protocol.js';

export interface RawConsumeParams {
  brokers: string[];
  topic: string;
  groupId: string;
  /** Records to read before stopping. */
  count: number;
}

export interface RawConsumeResult {
  records: number;
  bytes: number;
  /** First batch received → `count` records received. */
  runMs: number;
  cpuSeconds: number;
}

serve<RawConsumeParams, RawConsumeResult>(async (params, ready) => {
  const kafka = new Kafka({ clientId: 'bench-raw', brokers: params.brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: params.groupId, sessionTimeout: 30_000, maxWaitTimeInMs: 250, allowAutoTopicCreation: false });
  await consumer.connect();
  await consumer.subscribe({ topics: [params.topic], fromBeginning: true });
  let records = 0;
  let bytes = 0;
  let firstAt: number | undefined;
  let cpuAtFirst: NodeJS.CpuUsage | undefined;
  let markDone: (at: number) => void = () => {};
  const done = new Promise<number>((resolve) => (markDone = resolve));
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (firstAt === undefined) {
        firstAt = performance.now();
        cpuAtFirst = process.cpuUsage();
      }
      for (const message of batch.messages) bytes += message.value?.length ?? 0;
      records += batch.messages.length;
      if (records >= params.count) markDone(performance.now());
    },
  });
  ready();
  const endedAt = await done;
  const cpu = process.cpuUsage(cpuAtFirst);
  await consumer.disconnect();
  return { records, bytes, runMs: endedAt - (firstAt ?? endedAt), cpuSeconds: (cpu.user + cpu.system) / 1e6 };
});
