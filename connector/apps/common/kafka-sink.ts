/**
 * `run` wired up: the Kafka consumer feeding the event pipeline, which delivers through the
 * lanes and dead-letters to Kafka, committing offsets through the commit policy.
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
import { AckTracker } from '../../core/acks/ack-tracker.js';
import { CommitPolicy, type CommitObserver } from '../../core/acks/commit-policy.js';
import { systemClock } from '../../system/clock.js';
import { deadLetterTopicOf, type Config } from '../../core/config.js';
import { OutageBudgetError } from '../../core/errors.js';
import type { BreakerObserver } from '../../core/delivery/circuit-breaker.js';
import { readerSchemasOf, type CompiledMapping } from '../../core/mapping/index.js';
import { EventPipeline, type PipelineObserver } from '../../core/pipeline/pipeline.js';
import type { FleetBudgetObserver } from '../../core/delivery/fleet-budget.js';
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
  const fatal: { report: (error: Error) => void } = { report: () => {} };
  // The account's quota is the fleet's: this member's part follows the partitions it owns.
  const budgets = accountBudgets(config, clock, observers.quota);
  const engine = createDeliveryEngine(config, observers, budgets);
  engine.onOutageBudgetExhausted((error) => fatal.report(error));
  // The decoder's client already retried its request: one failure means the registry is down.
  const registryGate = outageGateFor(config, { name: 'the schema registry', breakerName: 'schema registry', threshold: 1, observer: observers.registryBreaker }, clock);
  // The registry's outage, past its budget, names which registry (the core knows no URL).
  registryGate.onBudgetExhausted((error) =>
    fatal.report(config.schema_registry ? new OutageBudgetError(`${error.message}; the registry is ${registryLocation(config.schema_registry.url)}`) : error),
  );
  const registry = config.schema_registry && createRegistryClient(config.schema_registry);
  const decoder = createDecoder({ readerSchemas: readerSchemasOf(mapping), registry });
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
  const backlog = new Backlog();
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
    observer: {
      ...observers.source,
      assigned(partitions) {
        backlog.clear();
        observers.source?.assigned?.(partitions);
      },
      joined(partitions) {
        share.owns(partitions.length);
        lag?.own(partitions);
        observers.source?.joined?.(partitions);
      },
      lag(topic, partition, lag) {
        // The route follows the backlog: bulk while far behind, single updates once caught up.
        engine.routePolicy?.observe(backlog.set(topic, partition, lag), engine.quota.remaining());
        observers.source?.lag?.(topic, partition, lag);
      },
    },
  });
  fatal.report = (error) => source.fail(error);
  const acks = new AckTracker();
  const commits = new CommitPolicy({
    tracker: acks,
    commit: (c) => source.commit(c),
    intervalMs: config.delivery.commit_interval_ms,
    threshold: config.delivery.max_pending / 4,
    clock,
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
  });
  const pipeline = new EventPipeline<SourceRecord>({
    decoder,
    mapper: mapping,
    delivery: engine.lanes,
    deadLetters: deadLetters.sinkFor((message) => message),
    acks,
    commits,
    maxPending: engine.maxPending,
    decodeRetry: retryPolicyOf(config.delivery),
    decodeGate: registryGate,
    clock,
    observer: observers.pipeline,
  });
  try {
    await source.start(pipeline);
  } catch (err) {
    await Promise.allSettled([source.disconnect(), share.close()]);
    return abandon(err);
  }
  outage.arm();
  commits.start();
  logger.info({ topics: mapping.topics, group: config.kafka.group_id }, 'consuming');
  return {
    kafka,
    groupId: config.kafka.group_id,
    topics: mapping.topics,
    engine,
    budgets,
    source,
    pipeline,
    async stop(drainMs = config.delivery.shutdown_timeout_ms) {
      const shareClosed = share.close();
      source.stopFetching();
      // What waits on quota, a retry or an outage cannot settle soon: left uncommitted for the next run.
      engine.lanes.cancelWaits();
      registryGate.stop();
      const drained = await pipeline.drain(drainMs);
      commits.stop();
      await commits.flush();
      lag?.close();
      deadLetters.stop();
      await source.disconnect();
      await shareClosed;
      await Promise.all([producer.disconnect(), admin.disconnect(), engine.close(), budgets.close(), registry?.close()]);
      return drained;
    },
  };
}

/** Events behind the end of each owned partition, as the consumer last saw them. */
class Backlog {
  private readonly lags = new Map<string, number>();
  private total = 0;

  /** Records a partition's lag; returns the backlog over all partitions. */
  set(topic: string, partition: number, lag: number): number {
    const key = `${partition}:${topic}`;
    this.total += lag - (this.lags.get(key) ?? 0);
    this.lags.set(key, lag);
    return this.total;
  }

  /** Forgets every partition (the assignment changed). */
  clear(): void {
    this.lags.clear();
    this.total = 0;
  }
}
