/**
 * `backfill`: an initial load or a backlog through the Bulk Profile Update API. Reads the mapped
 * topics from the group's committed offsets (or the earliest) to their end as it was at the
 * start, delivers everything by bulk (mboxPC mappings by single updates), commits, prints a
 * summary and exits. It is the `run` pipeline with the bulk route always on.
 */
import type { Admin } from 'kafkajs';
import { loadConfig } from '../../adapters/config/load.js';
import { createKafka } from '../../adapters/kafka/client.js';
import type { SourceRecord } from '../../adapters/kafka/consumer.js';
import { retryingKafka } from '../../adapters/kafka/retriable.js';
import { kafkaStartupError, requireTopics, startupContextOf } from '../../adapters/kafka/startup-errors.js';
import { loadConfiguredMapping } from '../../adapters/mapping-file/load.js';
import { deadLetterTopicOf, type Config } from '../../core/config.js';
import { ConnectorError, describeError } from '../../core/errors.js';
import { createLogger, type Logger } from '../../observe/logger.js';
import { createMetrics } from '../../observe/metrics.js';
import { breakerObserver, pipelineObservers, quotaObserver } from '../../observe/pipeline-observers.js';
import { backfillProgress, TargetWait } from '../../observe/backfill-progress.js';
import { startProgress } from '../../observe/progress.js';
import { RunStats } from '../../observe/run-stats.js';
import { startSink, type RunningSink } from '../common/kafka-sink.js';
import { requireTargetEndpoint } from '../common/target-preflight.js';

export interface BackfillOptions {
  config: string;
  /** `committed` (default): from the group's committed offsets, the earliest for a new group; `earliest`: from the start of every partition. */
  from?: 'earliest' | 'committed';
  logLevel?: string;
  /** Seconds between two `progress` log lines when stderr is not a terminal (default 30). */
  progressEvery?: number;
}

/** What a backfill did, printed as one JSON line on stdout. */
export interface BackfillSummary {
  events: number;
  delivered: number;
  filtered: number;
  deadLettered: number;
  /** Profiles that got an update (by bulk or single). */
  profiles: number;
  batches: number;
  rows: number;
  bytes: number;
  singleRequests: number;
  seconds: number;
}

/** How to go on after a backfill that stopped before the end: what Target did not report success for was not committed. */
export const RESUME_HINT =
  'run backfill again (it starts from the committed offsets, --from committed): it re-sends only the rows whose events are not committed';

/** Exit codes of `backfill`, as `run`'s; a backfill stopped by SIGTERM/SIGINT before the end is `failed`. */
export const BACKFILL_EXIT = { ok: 0, failed: 1, invalid: 2, deadLettered: 3 } as const;

/** The end offset of every partition of the topics, as it is now. */
async function endOffsets(admin: Admin, topics: string[]): Promise<Map<string, number>> {
  const ends = new Map<string, number>();
  for (const topic of topics) {
    for (const p of await retryingKafka(() => admin.fetchTopicOffsets(topic))) ends.set(`${p.partition}:${topic}`, Number(p.high));
  }
  return ends;
}

/** Whether the group has committed an offset for any partition of the topics. */
async function hasCommittedOffsets(admin: Admin, groupId: string, topics: string[]): Promise<boolean> {
  const committed = await retryingKafka(() => admin.fetchOffsets({ groupId, topics }));
  return committed.some((t) => t.partitions.some((p) => Number(p.offset) >= 0));
}

/** Refuses to start while other members consume the group: backfill must own every partition. */
async function requireIdleGroup(admin: Admin, groupId: string): Promise<void> {
  const { groups } = await retryingKafka(() => admin.describeGroups([groupId]));
  const members = groups[0]?.members.length ?? 0;
  if (members > 0) {
    throw new ConnectorError(
      'KAFKA_UNAVAILABLE',
      `consumer group ${groupId} has ${members} active member(s): stop the running connector first; backfill reads every partition itself`,
      false,
    );
  }
}

/** Counts of the bulk route and the profiles reached, for the summary and the progress line. */
class BackfillCounts {
  readonly profiles = new Set<string>();
  batches = 0;
  complete = 0;
  rows = 0;
  bytes = 0;
  singleRequests = 0;
}

/** Runs the backfill; returns the exit code. */
export async function runBackfill(options: BackfillOptions, out: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const logger = createLogger({ name: 'backfill', level: (options.logLevel ?? 'info') as 'info' });
  const started = performance.now();
  let config: Config;
  try {
    const loaded = await loadConfig(options.config);
    // Every thirdPartyId update goes by bulk; a new group starts at the earliest offsets.
    config = {
      ...loaded,
      kafka: { ...loaded.kafka, from_beginning: true },
      delivery: { ...loaded.delivery, bulk: { ...loaded.delivery.bulk, mode: 'always' } },
    };
  } catch (err) {
    return reportStartupError(err, logger);
  }
  let sink: RunningSink | undefined;
  const stats = new RunStats();
  const counts = new BackfillCounts();
  const targetWait = new TargetWait(() => performance.now());
  let interrupted: NodeJS.Signals | undefined;
  try {
    const mapping = await loadConfiguredMapping(config);
    await requireTargetEndpoint(config, logger);
    const admin = createKafka(config.kafka, logger).admin();
    let ends: Map<string, number>;
    try {
      // The same start-up diagnosis as run's (kafka-sink.ts): a missing topic, broker or login named in one line.
      await admin.connect().catch((err: unknown) => Promise.reject(kafkaStartupError(err, startupContextOf(config.kafka, mapping.topics))));
      await requireTopics(admin, mapping.topics, config.kafka.brokers);
      await requireIdleGroup(admin, config.kafka.group_id);
      // A group without committed offsets starts at the earliest anyway (from_beginning), and
      // resetting one costs a join of its own.
      if (options.from === 'earliest' && (await hasCommittedOffsets(admin, config.kafka.group_id, mapping.topics))) {
        for (const topic of mapping.topics) await retryingKafka(() => admin.resetOffsets({ groupId: config.kafka.group_id, topic, earliest: true }));
      }
      ends = await endOffsets(admin, mapping.topics);
    } finally {
      await admin.disconnect();
    }
    const remaining = new Map([...ends].filter(([, end]) => end > 0));
    const total = [...remaining.values()].reduce((a, b) => a + b, 0);
    let markDone: () => void = () => {};
    const done = new Promise<void>((resolve) => (markDone = resolve));
    // No metrics endpoint: a backfill reports through its progress line and summary.
    const metrics = createMetrics();
    const observers = pipelineObservers<SourceRecord>(metrics, stats, logger);
    sink = await startSink(config, logger, {
      ...observers,
      mapping,
      breaker: breakerObserver(metrics, logger, 'target'),
      bulkBreaker: breakerObserver(metrics, logger, 'target_bulk'),
      realtimeBreaker: breakerObserver(metrics, logger, 'target_delivery'),
      quota: quotaObserver(metrics, logger),
      lanes: {
        ...observers.lanes,
        routed(route, profile) {
          counts.profiles.add(profile);
          if (route === 'single') counts.singleRequests++;
          observers.lanes.routed?.(route, profile);
        },
      },
      bulk: {
        ...observers.bulk,
        batchSubmitted(rows, bytes) {
          counts.batches++;
          counts.rows += rows;
          counts.bytes += bytes;
          observers.bulk.batchSubmitted?.(rows, bytes);
        },
        batchCompleted(rows, ms) {
          counts.complete++;
          observers.bulk.batchCompleted?.(rows, ms);
        },
        batchReported: (batch, nextPollInMs) => targetWait.batchReported(batch, nextPollInMs),
        pollDeferred: (name, nextPollInMs) => targetWait.pollDeferred(name, nextPollInMs),
      },
      commits: {
        committed(commits) {
          for (const c of commits) {
            const key = `${c.partition}:${c.stream}`;
            const end = remaining.get(key);
            if (end !== undefined && Number(c.offset) >= end) remaining.delete(key);
          }
          if (remaining.size === 0) markDone();
        },
      },
    });
    if (remaining.size === 0) markDone();
    const running = sink;
    const counted = () => {
      const s = stats.summary();
      const elapsedMs = performance.now() - started;
      const settled = s.delivered + s.filtered + s.deadLettered;
      return {
        eventsTotal: total,
        eventsRead: s.consumed,
        eventsSettled: settled,
        elapsedMs,
        rowsSubmitted: counts.rows,
        batchesAccepted: counts.batches,
        batchesComplete: counts.complete,
      };
    };
    const progress = backfillProgress(counted, targetWait);
    const stopProgress = startProgress(progress, logger, (options.progressEvery ?? 30) * 1000);
    const fatal = new Promise<Error>((resolve) => running.onFatal(resolve));
    const signals = stopSignals(logger);
    const signalled = new Promise<NodeJS.Signals>((resolve) => signals.onFirst(resolve));
    let ended: Error | NodeJS.Signals | undefined;
    try {
      ended = await Promise.race([done.then(() => undefined), fatal, signalled]);
      stopProgress();
      if (typeof ended === 'string') {
        interrupted = ended;
        logger.info({ signal: ended }, 'stopping: no new fetches, waiting for rows Target reports within the shutdown timeout');
      }
      // A signal drains like run's SIGTERM; a fatal error waits for nothing (the endpoint is down).
      await running.stop(ended instanceof Error ? 0 : undefined);
    } finally {
      signals.close();
    }
    sink = undefined;
    if (ended instanceof Error) {
      logger.error({ err: describeError(ended) }, `backfill stopped: what was not delivered stays uncommitted; ${RESUME_HINT}`);
      return BACKFILL_EXIT.failed;
    }
    if (interrupted) logger.warn({ signal: interrupted, ...progress.fields() }, `backfill interrupted before the end: ${RESUME_HINT}`);
  } catch (err) {
    await sink?.stop(0);
    return reportStartupError(err, logger);
  }
  const s = stats.summary();
  const summary: BackfillSummary = {
    events: s.consumed,
    delivered: s.delivered,
    filtered: s.filtered,
    deadLettered: s.deadLettered,
    profiles: counts.profiles.size,
    batches: counts.batches,
    rows: counts.rows,
    bytes: counts.bytes,
    singleRequests: counts.singleRequests,
    seconds: Math.round((performance.now() - started) / 100) / 10,
  };
  out(`${JSON.stringify(summary)}\n`);
  if (interrupted) return BACKFILL_EXIT.failed;
  if (summary.deadLettered > 0) {
    logger.error(
      { deadLettered: summary.deadLettered, deadLetterTopic: deadLetterTopicOf(config) },
      `${summary.deadLettered} event(s) went to the dead-letter topic ${deadLetterTopicOf(config)}; fix the cause and run replay-dead-letters`,
    );
    return BACKFILL_EXIT.deadLettered;
  }
  return BACKFILL_EXIT.ok;
}

/**
 * SIGTERM and SIGINT while the backfill runs: the first stops it (what Target reported is
 * committed, the rest stays uncommitted), a second ends the process without draining.
 */
function stopSignals(logger: Logger): { onFirst(listener: (signal: NodeJS.Signals) => void): void; close(): void } {
  let listener: ((signal: NodeJS.Signals) => void) | undefined;
  let received = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      logger.warn({ signal }, `second signal: exiting without draining; ${RESUME_HINT}`);
      process.exit(BACKFILL_EXIT.failed);
    }
    received = true;
    listener?.(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    onFirst: (l) => (listener = l),
    close() {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}

function reportStartupError(err: unknown, logger: Logger): number {
  if (err instanceof ConnectorError && !err.retryable) {
    process.stderr.write(`${err.message}\n`);
    return BACKFILL_EXIT.invalid;
  }
  logger.error({ err: describeError(err) }, 'backfill failed');
  return BACKFILL_EXIT.failed;
}
