/**
 * `target-profile-sink demo`: Kafka (started here or given), the Target sandbox, fresh sample
 * topics and traffic, then the real connector until every partition is committed, and a report.
 * Whatever it started it stops again, on success, on failure and on interruption.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Type } from 'avsc';
import type { Logger } from 'pino';
import { describeError } from '../../core/errors.js';
import { createMetrics } from '../../observe/metrics.js';
import { pipelineObservers } from '../../observe/pipeline-observers.js';
import { RunStats } from '../../observe/run-stats.js';
import { startSink, type SinkObservers } from '../../apps/common/kafka-sink.js';
import { startSandbox } from '../sandbox/server.js';
import { createKafka } from '../../adapters/kafka/client.js';
import type { SourceRecord } from '../../adapters/kafka/consumer.js';
import { Cleanups } from './cleanups.js';
import { DemoError } from './errors.js';
import { DEMO_CLIENT_CODE, writeDemoConfig } from './demo-config.js';
import { buildDemoTraffic, loadSampleSchemas, produceDemoTraffic } from './demo-events.js';
import { timeLiveSwipes } from './live-swipes.js';
import { SAMPLE_TOPICS } from '../sample-events.js';
import { awaitGroupCoordinator, createDemoTopics, deleteDemoGroup, deleteDemoTopics, demoTopicNames, sourceTopics } from './demo-topics.js';
import { provideKafka } from './local-kafka.js';
import { readBackProfiles } from './read-back.js';
import type { DeadLetterNote, DemoReport } from './summary.js';
import { waitUntilCommitted } from './wait-committed.js';

export { DemoError, DemoInterruptedError } from './errors.js';
export { formatSummary, type DemoReport } from './summary.js';

/** What to run the demo with. */
export interface DemoOptions {
  /** Sample events to produce (malformed ones come on top). */
  events: number;
  /** Customers the events are spread over. */
  customers: number;
  /** Comma-separated brokers of a running cluster (KAFKA_BROKERS); the local broker otherwise. */
  brokers?: string;
  /** First part of the run's topic and group names, `demo` by default (tests put theirs here, so their cleanup finds them). */
  topicPrefix?: string;
  logger: Logger;
  /** Aborting stops the run early; cleanup still happens, and runDemo rejects with the reason. */
  signal?: AbortSignal;
}

// Three partitions per topic: enough to show ordering holds per key while partitions run in parallel.
const PARTITIONS = 3;
const PROFILES_SHOWN = 3;
// Read-back tries a few more customers than it shows, in case some had every event filtered.
const PROFILE_CANDIDATES = 20;
// A healthy run commits within seconds; a minute without progress means something is stuck.
const STALL_MS = 60_000;
/** Loyalty swipes produced one by one after the backlog, to time the real-time door. */
const LIVE_SWIPES = 50;

/** Runs the whole demo and returns its report; rejects with a DemoError (or the abort reason) after cleaning up. */
export async function runDemo(options: DemoOptions): Promise<DemoReport> {
  const { logger, signal } = options;
  const cleanups = new Cleanups(logger);
  try {
    signal?.throwIfAborted();
    const broker = await provideKafka({ brokers: options.brokers });
    cleanups.push('stop the local Kafka broker', () => broker.stop());
    if (broker.origin === 'started') logger.info({ brokers: broker.brokers }, 'started the local Kafka broker; the demo stops it when it ends');
    // A warning, so that it shows without --verbose: the user may not know that broker is running.
    if (broker.origin === 'reused') {
      logger.warn(`reusing the Kafka broker already running on ${broker.brokers.join(',')} (not started by this demo; it stays running)`);
    }
    signal?.throwIfAborted();

    const sandbox = await startSandbox({
      createMissing: true,
      clientCode: DEMO_CLIENT_CODE,
      // Final profiles and counters are all the demo reads; a long demo should not hold every update.
      recordUpdates: false,
      logger: logger.child({ component: 'sandbox' }),
    });
    cleanups.push('close the Target sandbox', () => sandbox.close());
    const dir = await mkdtemp(join(tmpdir(), 'target-profile-sink-demo-'));
    cleanups.push(`remove ${dir}`, () => rm(dir, { recursive: true, force: true }));

    const topics = demoTopicNames(new Date(), undefined, options.topicPrefix);
    const config = await writeDemoConfig({ dir, topics, brokers: broker.brokers, targetUrl: sandbox.url });
    logger.info({ runId: topics.runId, brokers: broker.brokers, sandbox: sandbox.url, mapping: config.mapping_file }, 'demo set up');
    // The demo's own clients log quietly below info: kafkajs reports each retry at error level, and
    // retries are expected on a fresh broker and just after topic creation; a final failure still rejects.
    const kafka = createKafka(config.kafka, logger.isLevelEnabled('info') ? logger : logger.child({}, { level: 'fatal' }));
    const admin = kafka.admin();
    await admin.connect().catch((err: unknown) => {
      throw new DemoError(`cannot reach Kafka at ${broker.brokers.join(',')}: ${describeError(err).message}`, { cause: err });
    });
    cleanups.push('disconnect the Kafka admin client', () => admin.disconnect());
    await createDemoTopics(admin, topics, PARTITIONS);
    cleanups.push(`delete the demo topics (${topics.runId}.*)`, () => deleteDemoTopics(admin, topics));
    await awaitGroupCoordinator(admin, topics);

    const schemas = await loadSampleSchemas();
    const traffic = buildDemoTraffic(schemas, topics, options);
    await produceDemoTraffic(kafka, traffic.messages, signal);
    logger.info({ events: traffic.messages.length }, 'sample events produced');
    signal?.throwIfAborted();

    const stats = new RunStats();
    const deadLetters: DeadLetterNote[] = [];
    const sink = await startSink(config, logger, demoObservers(stats, deadLetters));
    cleanups.push(`delete the consumer group ${topics.groupId}`, () => deleteDemoGroup(admin, topics));
    cleanups.push('stop the connector', () => sink.stop());
    await waitUntilCommitted(admin, topics.groupId, sourceTopics(topics), { stallMs: STALL_MS, signal });
    const run = stats.summary();
    logger.info({ summary: run }, 'every partition committed');
    const loyalty = SAMPLE_TOPICS.loyalty;
    const liveSwipes = await timeLiveSwipes(kafka, sandbox, topics.bySample[loyalty], schemas.get(loyalty) as Type, LIVE_SWIPES, signal);
    await waitUntilCommitted(admin, topics.groupId, sourceTopics(topics), { stallMs: STALL_MS, signal });

    const candidates = traffic.busiestCustomers.slice(0, PROFILE_CANDIDATES);
    return {
      brokers: broker.brokers,
      startedKafka: broker.origin === 'started',
      deadLetterTopic: topics.deadLetter,
      sampleEvents: traffic.sampleCount,
      malformedEvents: traffic.malformed.length,
      run,
      deadLetters,
      clientCode: DEMO_CLIENT_CODE,
      profiles: await readBackProfiles(sandbox.url, DEMO_CLIENT_CODE, candidates, PROFILES_SHOWN),
      liveSwipes,
    };
  } finally {
    await cleanups.run();
  }
}

/** The `run` command's metrics and stats observers, also noting each dead letter's reason for the report. */
function demoObservers(stats: RunStats, deadLetters: DeadLetterNote[]): SinkObservers {
  const observers = pipelineObservers<SourceRecord>(createMetrics(), stats);
  return {
    ...observers,
    pipeline: {
      ...observers.pipeline,
      settled(event, outcome, heldMs) {
        observers.pipeline.settled?.(event, outcome, heldMs);
        if (outcome.kind !== 'failed') return;
        const { code, message } = describeError(outcome.error);
        deadLetters.push({ topic: event.topic, code, message });
      },
    },
  };
}
