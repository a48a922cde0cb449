/** `target-profile-sink run`: the long-running Kafka consumer. */
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import { ConnectorError } from '../../errors.js';
import { startObserveServer, type ObserveServer } from '../../observe/http.js';
import { createLogger, type Logger } from '../../observe/logger.js';
import { createMetrics } from '../../observe/metrics.js';
import { pipelineObservers } from '../../observe/pipeline-observers.js';
import { startProgress } from '../../observe/progress.js';
import { RunStats } from '../../observe/run-stats.js';
import { groupLag } from '../../run/group-progress.js';
import { startSink, type RunningSink } from '../../run/sink.js';

export interface RunOptions {
  config: string;
  exitWhenIdle?: boolean;
  logLevel?: string;
}

/** Runs until SIGTERM/SIGINT (or, with exitWhenIdle, until the group has caught up); returns the exit code. */
export async function runConnector(options: RunOptions): Promise<number> {
  const logger = createLogger({ name: 'run', level: (options.logLevel ?? 'info') as 'info' });
  let sink: RunningSink | undefined;
  const metrics = createMetrics();
  const stats = new RunStats();
  let observe: ObserveServer | undefined;
  try {
    const config = await loadConfig(options.config);
    // Health first, so that an orchestrator sees the process alive while it joins the group.
    if (config.metrics.port !== 0) {
      observe = await startObserveServer({
        host: config.metrics.host,
        port: config.metrics.port,
        metrics,
        isReady: () => sink?.source.ready === true,
      });
      logger.info({ port: observe.port }, 'metrics on /metrics, health on /healthz and /readyz');
    }
    sink = await startSink(config, logger, pipelineObservers(metrics, stats));
  } catch (err) {
    await observe?.close();
    return reportStartupError(err, logger);
  }
  const running = sink;
  const stopProgress = startProgress(stats, { pending: () => running.source.pending, quotaRemaining: () => running.engine.quota.remaining() }, logger);
  const reason = await waitForStop(running, options, logger);
  logger.info({ reason }, 'stopping: no new fetches, draining in-flight events');
  const crashed = reason === 'consumer crashed';
  const drained = await running.stop();
  stopProgress();
  await observe?.close();
  logger.info({ drained, summary: stats.summary() }, drained ? 'stopped cleanly' : 'stopped; undelivered events stay uncommitted');
  return crashed ? 1 : 0;
}

function reportStartupError(err: unknown, logger: Logger): number {
  if (err instanceof ConnectorError) {
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
  logger.error({ err }, 'could not start');
  return 1;
}

/** Resolves with what ended the run: a signal, a consumer crash, or an idle group when asked to exit then. */
async function waitForStop(sink: RunningSink, options: RunOptions, logger: Logger): Promise<string> {
  let idle: IdleWatch | undefined;
  const reason = await new Promise<string>((resolve) => {
    let stopping = false;
    const stop = (why: string) => {
      if (stopping) return;
      stopping = true;
      resolve(why);
    };
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting without draining');
        process.exit(1);
      }
      stop(signal);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    sink.source.onFatal(() => stop('consumer crashed'));
    if (options.exitWhenIdle) idle = watchForIdle(sink, () => stop('idle'));
  });
  // Whatever ended the run, the watcher's timer and admin connection must not keep it alive.
  await idle?.close();
  return reason;
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
    if (sink.source.pending === 0) {
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

/** Adds the `run` subcommand. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('consume the mapped topics and keep Target profiles current (the main job)')
    .requiredOption('--config <file>', 'config file (YAML or JSON)')
    .option('--exit-when-idle', 'stop once every mapped partition is delivered and committed (backfills)')
    .option('--log-level <level>', 'trace, debug, info, warn, error', 'info')
    .action(async (opts: RunOptions) => {
      process.exitCode = await runConnector(opts);
    });
}
