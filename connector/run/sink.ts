import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { Config } from '../config/types.js';
import { DeadLetterWriter } from '../deadletter/dead-letter-writer.js';
import { createDecoder, type Decoder } from '../decode/decoder.js';
import { systemClock, type Clock } from '../clock.js';
import type { OutageBudgetError } from '../errors.js';
import { CircuitBreaker, type BreakerObserver } from '../dispatch/circuit-breaker.js';
import { Dispatcher, type DispatchObserver } from '../dispatch/dispatcher.js';
import { RollingQuota } from '../dispatch/rolling-quota.js';
import { loadConfiguredMapping, readerSchemasOf, type CompiledMapping } from '../mapping/index.js';
import { KafkaSource, type SourceObserver } from '../source/kafka-source.js';
import { createKafka } from '../source/kafka-client.js';
import { TargetClient } from '../target/client.js';
import { requestBuilderFor } from '../target/request-builder.js';
import { RetryPolicy } from '../retry/policy.js';

/** The delivery half of the connector: mapping, dispatch and the Target client. */
export interface DeliveryEngine {
  mapping: CompiledMapping;
  dispatcher: Dispatcher;
  quota: RollingQuota;
  close(): Promise<void>;
}

/** How the delivery engine reports: request and retry events, and the Target breaker's outages. */
export interface EngineObservers {
  dispatch?: DispatchObserver;
  breaker?: BreakerObserver;
  clock?: Clock;
  /** The mapping, when the caller loaded (and so validated) it already. */
  mapping?: CompiledMapping;
}

/** The delivery config's backoff as the connector's one retry policy; `maxAttempts` bounds a request's own failures. */
export function retryPolicyOf(delivery: Config['delivery'], maxAttempts?: number): RetryPolicy {
  return new RetryPolicy({ initialMs: delivery.initial_backoff_ms, maxMs: delivery.max_backoff_ms, maxAttempts });
}

/** Builds mapping, request builder, Target client, quota and dispatcher from the config. */
export async function createDeliveryEngine(config: Config, observers: EngineObservers = {}): Promise<DeliveryEngine> {
  const clock = observers.clock ?? systemClock;
  const mapping = observers.mapping ?? (await loadConfiguredMapping(config));
  const builder = requestBuilderFor(config.target);
  const client = new TargetClient({
    baseUrl: config.target.base_url,
    timeoutMs: config.target.timeout_ms,
    connections: config.delivery.concurrency,
  });
  const quota = new RollingQuota(config.delivery.daily_quota, config.delivery.quota_window_ms, () => clock.now());
  const breaker = new CircuitBreaker({
    endpoint: 'Target',
    threshold: config.delivery.breaker_threshold,
    probePolicy: retryPolicyOf(config.delivery),
    clock,
    observer: observers.breaker,
  });
  const dispatcher = new Dispatcher({
    concurrency: config.delivery.concurrency,
    retry: retryPolicyOf(config.delivery, config.delivery.max_attempts),
    breaker,
    outageBudgetMs: config.delivery.outage_budget_ms,
    quota,
    clock,
    buildRequests: (update) => builder.build(update),
    send: (request) => client.send(request),
    observer: observers.dispatch,
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
  /** Graceful stop; waits for in-flight events up to `drainMs` (default: the config's shutdown timeout); resolves with whether all settled. */
  stop(drainMs?: number): Promise<boolean>;
}

export interface SinkObservers extends EngineObservers {
  source?: SourceObserver;
  registryBreaker?: BreakerObserver;
}

/** Starts the long-running consumer described by the config. */
export async function startSink(config: Config, logger: Logger, observers: SinkObservers = {}): Promise<RunningSink> {
  // The dispatcher is built before the source it must stop; the hand-off is filled in below.
  const outageBudget: { exhausted: (error: OutageBudgetError) => void } = { exhausted: () => {} };
  const engine = await createDeliveryEngine(config, {
    ...observers,
    dispatch: { ...observers.dispatch, outageBudgetExhausted: (error) => outageBudget.exhausted(error) },
  });
  const decoder: Decoder = createDecoder({ readerSchemas: readerSchemasOf(engine.mapping), registry: config.schema_registry });
  const kafka = createKafka(config.kafka, logger);
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  const deadLetters = new DeadLetterWriter(producer, config.delivery.dead_letter_topic, logger);
  const source: KafkaSource = new KafkaSource({
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
    registryRetry: retryPolicyOf(config.delivery),
    registryBreaker: observers.registryBreaker,
    outageBudgetMs: config.delivery.outage_budget_ms,
  });
  outageBudget.exhausted = (error) => source.fail(error);
  await source.start();
  logger.info({ topics: engine.mapping.topics, group: config.kafka.group_id }, 'consuming');
  return {
    kafka,
    groupId: config.kafka.group_id,
    topics: engine.mapping.topics,
    engine,
    source,
    async stop(drainMs = config.delivery.shutdown_timeout_ms) {
      const drained = await source.stop(drainMs);
      await Promise.all([producer.disconnect(), engine.close(), decoder.close()]);
      return drained;
    },
  };
}
