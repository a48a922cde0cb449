/** `run`: the long-running Kafka consumer, its observability, and how it ends. */
import { deadLetterTopicOf } from '../../core/config.js';
import { loadConfig } from '../../adapters/config/load.js';
import { ConnectorError, describeError } from '../../core/errors.js';
import { startObserveServer, type ObserveServer } from '../../observe/http.js';
import { createLogger, type Logger } from '../../observe/logger.js';
import { createMetrics } from '../../observe/metrics.js';
import { breakerObserver, pipelineObservers, quotaObserver } from '../../observe/pipeline-observers.js';
import { runProgress, startProgress } from '../../observe/progress.js';
import { RunStats } from '../../observe/run-stats.js';
import type { TruncationReport } from '../../observe/truncation-report.js';
import { groupLag } from '../../adapters/kafka/group-lag.js';
import { loadConfiguredMapping } from '../../adapters/mapping-file/load.js';
import { startSink, type RunningSink } from '../common/kafka-sink.js';
import { requireTargetEndpoint } from '../common/target-preflight.js';

export interface RunOptions {
  config: string;
  exitWhenIdle?: boolean;
  logLevel?: string;
}

/** Exit codes of `run`, part of its contract for schedulers and scripts. */
export const RUN_EXIT = {
  ok: 0,
  /**
   * The consumer crashed for good, an outage outlasted delivery.outage_budget_ms, or Kafka could
   * not be reached at start-up (after kafkajs' retries): a restart may succeed as it is.
   */
  failed: 1,
  /**
   * The config or mapping cannot be used — including what it names that is not there or refuses
   * it: a mapped topic missing on the brokers, a SASL login or TLS handshake refused. A restart
   * fails the same way until someone acts.
   */
  invalid: 2,
  /** `--exit-when-idle` finished, but some events went to the dead-letter topic. */
  deadLettered: 3,
} as const;

/** Runs until SIGTERM/SIGINT (or, with exitWhenIdle, until the group has caught up); returns the exit code. */
export async function runConnector(options: RunOptions): Promise<number> {
  const logger = createLogger({ name: 'run', level: (options.logLevel ?? 'info') as 'info' });
  // From the first moment: a SIGTERM while the run starts stops it cleanly once started, never half-way.
  const signals = new StopSignals(logger);
  let sink: RunningSink | undefined;
  const metrics = createMetrics();
  metrics.readLiveFrom({
    pending: () => sink?.pipeline.pending ?? 0,
    ready: () => sink?.source.ready === true,
    quota: () => sink && { remaining: sink.engine.quota.remaining(), limit: sink.budgets.requestLimit() },
    oldestBulkPendingMs: () => sink?.engine.oldestBulkPendingMs() ?? 0,
  });
  const stats = new RunStats();
  let observe: ObserveServer | undefined;
  let deadLetterTopic = '';
  let truncations: TruncationReport | undefined;
  try {
    const config = await loadConfig(options.config);
    deadLetterTopic = deadLetterTopicOf(config);
    // Validated before anything listens or logs, so a bad mapping ends the command with its problems only.
    const mapping = await loadConfiguredMapping(config);
    metrics.initialise({ topics: mapping.topics });
    // Health next, so that an orchestrator sees the process alive while it joins the group.
    if (config.metrics.port !== 0) {
      observe = await startObserveServer({
        host: config.metrics.host,
        port: config.metrics.port,
        metrics,
        isReady: () => sink?.source.ready === true,
      });
      logger.info({ port: observe.port }, 'metrics on /metrics, health on /healthz and /readyz');
    }
    // A wrong client code or path must end the start here, not look like an endless outage later.
    await requireTargetEndpoint(config, logger);
    const observers = pipelineObservers(metrics, stats, logger);
    truncations = observers.truncations;
    sink = await startSink(config, logger, {
      ...observers,
      breaker: breakerObserver(metrics, logger, 'target'),
      bulkBreaker: breakerObserver(metrics, logger, 'target_bulk'),
      realtimeBreaker: breakerObserver(metrics, logger, 'target_delivery'),
      registryBreaker: breakerObserver(metrics, logger, 'schema_registry'),
      quota: quotaObserver(metrics, logger),
      mapping,
    });
  } catch (err) {
    await observe?.close();
    return reportStartupError(err, logger);
  }
  const running = sink;
  const stopProgress = startProgress(
    runProgress(stats, { pending: () => running.pipeline.pending, quotaRemaining: () => running.engine.quota.remaining() }),
    logger,
  );
  const stop = await waitForStop(running, options, signals);
  if (stop.fatal) logger.error({ err: describeError(stop.fatal) }, `stopping: ${stop.fatal.message}; what was not delivered stays uncommitted`);
  else logger.info({ reason: stop.reason }, 'stopping: no new fetches, draining in-flight events');
  // After a fatal error nothing in flight will settle (the endpoint is down): do not wait for it.
  const drained = await running.stop(stop.fatal ? 0 : undefined);
  stopProgress();
  await observe?.close();
  const summary = stats.summary();
  logger.info({ drained, summary, truncated: truncations?.summary() }, drained ? 'stopped cleanly' : 'stopped; undelivered events stay uncommitted');
  if (stop.fatal) return RUN_EXIT.failed;
  if (stop.reason === 'idle' && summary.deadLettered > 0) {
    logger.error(
      { deadLettered: summary.deadLettered, deadLetterTopic },
      `${summary.deadLettered} event(s) went to the dead-letter topic ${deadLetterTopic} during this run; fix the cause and run replay-dead-letters`,
    );
    return RUN_EXIT.deadLettered;
  }
  return RUN_EXIT.ok;
}

/** One line on stderr saying what is wrong, no stack trace; the exit code tells a restart policy whether to retry. */
function reportStartupError(err: unknown, logger: Logger): number {
  if (err instanceof ConnectorError) {
    process.stderr.write(`${err.message}\n`);
    return err.retryable ? RUN_EXIT.failed : RUN_EXIT.invalid;
  }
  logger.error({ err: describeError(err) }, `could not start: ${describeError(err).message}`);
  return RUN_EXIT.failed;
}

/** What ended the run: a signal or an idle group when asked to exit then, or a fatal error. */
interface StopCause {
  reason: string;
  fatal?: Error;
}

/**
 * SIGTERM and SIGINT, heard from the start of the command: the first asks the run to stop (at once
 * when it is running, as soon as it is when it is still starting), a second ends the process
 * without draining.
 */
class StopSignals {
  private received: NodeJS.Signals | undefined;
  private listener: ((signal: NodeJS.Signals) => void) | undefined;

  constructor(logger: Logger) {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.received !== undefined) {
        logger.warn({ signal }, 'second signal: exiting without draining');
        process.exit(1);
      }
      this.received = signal;
      this.listener?.(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }

  /** Calls `listener` with the first signal: now if it already came, else when it comes. */
  onFirst(listener: (signal: NodeJS.Signals) => void): void {
    this.listener = listener;
    if (this.received !== undefined) listener(this.received);
  }
}

/** Resolves with what ended the run. */
async function waitForStop(sink: RunningSink, options: RunOptions, signals: StopSignals): Promise<StopCause> {
  let idle: IdleWatch | undefined;
  const cause = await new Promise<StopCause>((resolve) => {
    let stopping = false;
    const stop = (why: StopCause) => {
      if (stopping) return;
      stopping = true;
      resolve(why);
    };
    signals.onFirst((signal) => stop({ reason: signal }));
    sink.onFatal((error) => stop({ reason: 'fatal', fatal: error }));
    if (options.exitWhenIdle) idle = watchForIdle(sink, () => stop({ reason: 'idle' }));
  });
  // Whatever ended the run, the watcher's timer and admin connection must not keep it alive.
  await idle?.close();
  return cause;
}

interface IdleWatch {
  close(): Promise<void>;
}

/** Calls `onIdle` once nothing is pending and the group has committed the end of every partition. */
function watchForIdle(sink: RunningSink, onIdle: () => void): IdleWatch {
  const admin = sink.kafka.admin();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const poll = async () => {
    if (closed) return;
    if (sink.pipeline.pending === 0) {
      const lags = await groupLag(admin, sink.groupId, sink.topics).catch(() => undefined);
      if (!closed && lags?.every((l) => l.lag === 0)) return onIdle();
    }
    if (!closed) timer = setTimeout(() => void poll(), 500);
  };
  const connected = admin.connect().then(poll);
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await connected.catch(() => undefined);
      await admin.disconnect();
    },
  };
}
