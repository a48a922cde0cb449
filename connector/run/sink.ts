import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { DeadLetterWriter } from '../deadletter/dead-letter-writer.js';
import { createDecoder, type Decoder } from '../decode/decoder.js';
import { Dispatcher, type DispatchObserver } from '../dispatch/dispatcher.js';
import { RollingQuota } from '../dispatch/rolling-quota.js';
import { loadConfiguredMapping, readerSchemasOf, type CompiledMapping } from '../mapping/index.js';
import { KafkaSource, type SourceObserver } from '../source/kafka-source.js';
import { createKafka } from '../source/kafka-client.js';
import { TargetClient } from '../target/client.js';
import { requestBuilderFor } from '../target/request-builder.js';

/** The delivery half of the connector: mapping, dispatch and the Target client. */
export interface DeliveryEngine {
  mapping: CompiledMapping;
  dispatcher: Dispatcher;
  quota: RollingQuota;
  close(): Promise<void>;
}

/** Builds mapping, request builder, Target client, quota and dispatcher from the config. */
export async function createDeliveryEngine(config: Config, observer?: DispatchObserver): Promise<DeliveryEngine> {
  const mapping = await loadConfiguredMapping(config);
  const builder = requestBuilderFor(config.target);
  const client = new TargetClient({
    baseUrl: config.target.base_url,
    timeoutMs: config.target.timeout_ms,
    connections: config.delivery.concurrency,
  });
  const quota = new RollingQuota(config.delivery.daily_quota, config.delivery.quota_window_ms);
  const dispatcher = new Dispatcher({
    concurrency: config.delivery.concurrency,
    maxAttempts: config.delivery.max_attempts,
    initialBackoffMs: config.delivery.initial_backoff_ms,
    maxBackoffMs: config.delivery.max_backoff_ms,
    quota,
    buildRequests: (update) => builder.build(update),
    send: (request) => client.send(request),
    observer,
  });
  return { mapping, dispatcher, quota, close: () => client.close() };
}

/** A running `run`: the Kafka source feeding the delivery engine. */
export interface RunningSink {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  engine: DeliveryEngine;
  source: KafkaSource;
  /** Graceful stop; resolves with whether every in-flight event settled in time. */
  stop(): Promise<boolean>;
}

export interface SinkObservers {
  dispatch?: DispatchObserver;
  source?: SourceObserver;
}

/** Starts the long-running consumer described by the config. */
export async function startSink(config: Config, logger: Logger, observers: SinkObservers = {}): Promise<RunningSink> {
  const engine = await createDeliveryEngine(config, observers.dispatch);
  const decoder: Decoder = createDecoder({ readerSchemas: readerSchemasOf(engine.mapping), registry: config.schema_registry });
  const kafka = createKafka(config.kafka, logger);
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const deadLetters = new DeadLetterWriter(producer, config.delivery.dead_letter_topic, logger);
  const source = new KafkaSource({
    kafka,
    groupId: config.kafka.group_id,
    topics: engine.mapping.topics,
    fromBeginning: config.kafka.from_beginning,
    sessionTimeoutMs: config.kafka.session_timeout_ms,
    maxPending: config.delivery.max_pending,
    commitIntervalMs: config.delivery.commit_interval_ms,
    decoder,
    mapper: engine.mapping,
    dispatcher: engine.dispatcher,
    deadLetters,
    logger,
    observer: observers.source,
  });
  await source.start();
  logger.info({ topics: engine.mapping.topics, group: config.kafka.group_id }, 'consuming');
  return {
    kafka,
    groupId: config.kafka.group_id,
    topics: engine.mapping.topics,
    engine,
    source,
    async stop() {
      const drained = await source.stop(config.delivery.shutdown_timeout_ms);
      await Promise.all([producer.disconnect(), engine.close(), decoder.close()]);
      return drained;
    },
  };
}
