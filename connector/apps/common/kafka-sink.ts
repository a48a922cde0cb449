/**
 * `run` wired up: the event pipeline driving the Kafka consumer (its `Source`), delivering
 * through the lanes and dead-lettering to Kafka, committing offsets through its commit policy.
 * Control is wired here, by name: what can end the run calls the run's `RunControl`, and the
 * consumer's backlog goes to the route policy through a `LagSignal`.
 */
import { getHeapStatistics } from 'node:v8';
import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { createDecoder } from '../../adapters/avro/decoder.js';
import { createKafka } from '../../adapters/kafka/client.js';
import { KafkaSource, type KafkaSourceObserver, type SourceRecord } from '../../adapters/kafka/consumer.js';
import { groupLag } from '../../adapters/kafka/group-lag.js';
import { LagRefresher, type LagObserver } from '../../adapters/kafka/lag-refresher.js';
import { partitionCount } from '../../adapters/kafka/partition-count.js';
import { BrokerOutage, brokerOutageLog } from '../../adapters/kafka/broker-outage.js';
import { kafkaStartupError, requireTopics, startupContextOf } from '../../adapters/kafka/startup-errors.js';
import { DeadLetterWriter } from '../../adapters/kafka/dead-letter-writer.js';
import { loadConfiguredMapping } from '../../adapters/mapping-file/load.js';
import { createRegistryClient, registryLocation } from '../../adapters/registry/registry.js';
import type { CommitObserver } from '../../core/acks/commit-policy.js';
import { systemClock } from '../../system/clock.js';
import { deadLetterTopicOf, type Config } from '../../core/config.js';
import { OutageBudgetError } from '../../core/errors.js';
import type { BreakerObserver } from '../../core/delivery/circuit-breaker.js';
import { projectedSchemasOf, readerSchemasOf, type CompiledMapping } from '../../core/mapping/index.js';
import { RunControl } from '../../core/pipeline/control.js';
import { Backlog } from '../../core/pipeline/lag-signal.js';
import { EventPipeline, type PipelineObserver } from '../../core/pipeline/pipeline.js';
import type { SourcePartition } from '../../core/pipeline/source.js';
import type { FleetBudgetObserver } from '../../core/delivery/fleet-budget.js';
import { usesRealtimeRoute } from './realtime.js';
import { createDeliveryEngine, outageGateFor, retryPolicyOf, type DeliveryEngine, type DeliveryObservers } from './delivery.js';
import { fitBulkToHeap } from './bulk-heap.js';
import { accountBudgets, type AccountBudgets } from './quota.js';
import { ShareFollower } from './share-follower.js';

/** A running `run`. */
export interface RunningSink {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  engine: DeliveryEngine;
  /** The account's budgets as this member holds them. */
  budgets: AccountBudgets;
  source: KafkaSource;
  pipeline: EventPipeline<SourceRecord>;
  /** Calls `listener` when the run cannot go on (a crash kafkajs will not restart, an outage past its budget); fetching has stopped by then. */
  onFatal(listener: (error: Error) => void): void;
  /** Graceful stop; waits for in-flight events up to `drainMs` (default: the config's shutdown timeout); resolves with whether all settled. */
  stop(drainMs?: number): Promise<boolean>;
}

/** How a run reports, layer by layer; every member optional. */
export interface SinkObservers extends DeliveryObservers {
  pipeline?: PipelineObserver<SourceRecord>;
  source?: KafkaSourceObserver;
  /** The lag of each owned partition as Kafka reports it (committed offset to log end). */
  lag?: LagObserver;
  commits?: CommitObserver;
  registryBreaker?: BreakerObserver;
  /** The shared quota store: fallback to this member's share, and the fleet's use. */
  quota?: FleetBudgetObserver;
  /** The mapping, when the caller loaded (and so validated) it already. */
  mapping?: CompiledMapping;
}

/** How often the lag is read from Kafka while no commit asks sooner, and the least gap between two reads. */
const LAG_EVERY_MS = 5000;
const LAG_MIN_GAP_MS = 1000;

/** Starts the long-running consumer described by the config. */
export async function startSink(configured: Config, logger: Logger, observers: SinkObservers = {}): Promise<RunningSink> {
  const config = fitBulkToHeap(configured, getHeapStatistics().heap_size_limit, logger);
  const clock = observers.clock ?? systemClock;
  const mapping = observers.mapping ?? (await loadConfiguredMapping(config));
  const control = new RunControl();
  // The account's quota is the fleet's: this member's part follows the partitions it owns.
  const budgets = accountBudgets(config, clock, observers.quota);
  const engine = createDeliveryEngine(config, observers, budgets, { realtime: usesRealtimeRoute(mapping) });
  engine.onOutageBudgetExhausted((error) => control.fatal(error));
  // The decoder's client already retried its request: one failure means the registry is down.
  const registryGate = outageGateFor(
    config,
    { name: 'the schema registry', breakerName: 'schema registry', threshold: 1, observer: observers.registryBreaker },
    clock,
  );
  // The registry's outage, past its budget, names which registry (the core knows no URL).
  registryGate.onBudgetExhausted((error) =>
    control.fatal(config.schema_registry ? new OutageBudgetError(`${error.message}; the registry is ${registryLocation(config.schema_registry.url)}`) : error),
  );
  const registry = config.schema_registry && createRegistryClient(config.schema_registry);
  const decoder = createDecoder({ readerSchemas: readerSchemasOf(mapping), registry, projections: projectedSchemasOf(mapping) });
  const outage = new BrokerOutage(brokerOutageLog(logger, config.kafka.brokers), clock);
  const kafka = createKafka(config.kafka, logger, (cause) => outage.failure(cause));
  const startup = startupContextOf(config.kafka, mapping.topics);
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  const admin = kafka.admin();
  // Whatever fails from here on, nothing may stay connected (kafkajs would retry on and keep the process alive).
  const abandon = async (err: unknown): Promise<never> => {
    await Promise.allSettled([producer.disconnect(), admin.disconnect(), engine.close(), budgets.close(), registry?.close()]);
    throw kafkaStartupError(err, startup);
  };
  try {
    await admin.connect();
    // Checked before subscribing: kafkajs reports a missing topic without naming it, then retries forever.
    await requireTopics(admin, mapping.topics, config.kafka.brokers);
    await producer.connect();
  } catch (err) {
    return abandon(err);
  }
  const deadLetters = new DeadLetterWriter(producer, deadLetterTopicOf(config), logger);
  // The route follows the backlog: bulk while far behind, single updates once caught up.
  const backlog = engine.routePolicy && new Backlog(engine.routePolicy, engine.quota);
  const share = new ShareFollower(budgets, () => partitionCount(admin, mapping.topics), logger);
  const lag =
    observers.lag &&
    new LagRefresher({
      read: () => groupLag(admin, config.kafka.group_id, mapping.topics, config.kafka.from_beginning),
      observer: observers.lag,
      everyMs: LAG_EVERY_MS,
      minGapMs: LAG_MIN_GAP_MS,
      logger,
    });
  const source = new KafkaSource({
    kafka,
    groupId: config.kafka.group_id,
    topics: mapping.topics,
    fromBeginning: config.kafka.from_beginning,
    sessionTimeoutMs: config.kafka.session_timeout_ms,
    logger,
    outage,
    observer: observers.source,
    fatal: control,
    lag: backlog,
  });
  const pipeline = new EventPipeline<SourceRecord>({
    source,
    decoder,
    mapper: mapping,
    delivery: engine.lanes,
    deadLetters: deadLetters.sinkFor((message) => message),
    commits: {
      intervalMs: config.delivery.commit_interval_ms,
      threshold: config.delivery.max_pending / 4,
      observer: {
        ...observers.commits,
        committed(done) {
          lag?.refreshSoon();
          observers.commits?.committed?.(done);
        },
        failed(error) {
          observers.commits?.failed?.(error);
          // During a broker outage every commit fails; the outage is reported as one.
          logger[outage.down ? 'debug' : 'warn']({ err: error }, 'offset commit failed; the next one carries its offsets');
        },
      },
    },
    followers: [
      { owns: (partitions) => share.owns(partitions.length) },
      ...(backlog ? [backlog] : []),
      ...(lag ? [{ owns: (partitions: SourcePartition[]) => lag.own(partitions.map((p) => ({ topic: p.stream, partition: p.partition }))) }] : []),
    ],
    maxPending: engine.maxPending,
    decodeRetry: retryPolicyOf(config.delivery),
    decodeGate: registryGate,
    clock,
    observer: observers.pipeline,
  });
  // A fatal error stops fetching first: nothing more is read, nothing committed past what was acknowledged.
  control.onFatal(() => pipeline.halt());
  try {
    await pipeline.start();
  } catch (err) {
    await Promise.allSettled([source.disconnect(), share.close()]);
    return abandon(err);
  }
  outage.arm();
  logger.info({ topics: mapping.topics, group: config.kafka.group_id }, 'consuming');
  return {
    kafka,
    groupId: config.kafka.group_id,
    topics: mapping.topics,
    engine,
    budgets,
    source,
    pipeline,
    onFatal: (listener) => control.onFatal(listener),
    async stop(drainMs = config.delivery.shutdown_timeout_ms) {
      const shareClosed = share.close();
      source.stopFetching();
      // What waits on quota, a retry or an outage cannot settle soon: left uncommitted for the next run.
      engine.lanes.cancelWaits();
      registryGate.stop();
      const drained = await pipeline.close(drainMs);
      lag?.close();
      deadLetters.stop();
      await source.disconnect();
      await shareClosed;
      await Promise.all([producer.disconnect(), admin.disconnect(), engine.close(), budgets.close(), registry?.close()]);
      return drained;
    },
  };
}
