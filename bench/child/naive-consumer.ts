/**
 * The consumer users write first: kafkajs `eachMessage`, decode + map, `await` one undici request
 * per update, kafkajs auto-commit. It gets the connector's own decoder, mapping and request
 * builder, so only the delivery strategy differs from the connector. Time-boxed: it counts the
 * events it completes in `durationMs` from its first message (its rate is steady: one round trip
 * per event), because draining the workload would take far too long.
 */
import { Kafka, logLevel } from 'kafkajs';
import { request } from 'undici';
import { loadConfig } from '../../connector/adapters/config/load.js';
import { createDecoder } from '../../connector/adapters/avro/decoder.js';
import { readerSchemasOf } from '../../connector/core/mapping/index.js';
import { loadConfiguredMapping } from '../../connector/adapters/mapping-file/load.js';
import { requestBuilderFor } from '../../connector/apps/common/delivery.js';
import { serve } from './protocol.js';

export interface NaiveParams {
  configPath: string;
  durationMs: number;
}

export interface NaiveResult {
  events: number;
  requests: number;
  failures: number;
  runMs: number;
  cpuSeconds: number;
  /** Per-event handling time (fetch handed over → request answered), ms. */
  p50Ms: number;
}

serve<NaiveParams, NaiveResult>(async (params, ready) => {
  const config = await loadConfig(params.configPath);
  const mapping = await loadConfiguredMapping(config);
  const builder = requestBuilderFor(config.target);
  const topics = mapping.topics;
  const decoder = createDecoder({ readerSchemas: readerSchemasOf(mapping) });
  const kafka = new Kafka({ clientId: 'bench-naive', brokers: config.kafka.brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: config.kafka.group_id });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });

  let events = 0;
  let requests = 0;
  let failures = 0;
  let firstAt: number | undefined;
  let cpuAtFirst: NodeJS.CpuUsage | undefined;
  const times: number[] = [];
  let markDone: (at: number) => void = () => {};
  const done = new Promise<number>((resolve) => (markDone = resolve));
  let finished = false;

  await consumer.run({
    eachMessage: async ({ topic, message }) => {
      if (finished || message.value === null) return;
      const started = performance.now();
      if (firstAt === undefined) {
        firstAt = started;
        cpuAtFirst = process.cpuUsage();
        setTimeout(() => {
          finished = true;
          markDone(performance.now());
        }, params.durationMs);
      }
      const value = decoder.decode(topic, message.value);
      for (const outcome of mapping.mapEvent(topic, value)) {
        if (outcome.kind !== 'update') continue;
        for (const r of builder.build(outcome.update)) {
          const res = await request(r.url, {
            method: r.method,
            body: r.body,
            headers: r.body === undefined ? undefined : { 'content-type': 'application/x-www-form-urlencoded' },
          });
          const text = await res.body.text();
          requests++;
          if (res.statusCode !== 200 || !text.startsWith('true')) failures++;
        }
      }
      if (finished) return;
      events++;
      times.push(performance.now() - started);
    },
  });
  ready();
  const endedAt = await done;
  const cpu = process.cpuUsage(cpuAtFirst);
  await consumer.disconnect().catch(() => undefined);
  times.sort((a, b) => a - b);
  return {
    events,
    requests,
    failures,
    runMs: endedAt - (firstAt ?? endedAt),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    p50Ms: times[Math.floor(times.length / 2)] ?? Number.NaN,
  };
});
