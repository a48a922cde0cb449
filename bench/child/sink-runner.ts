/**
 * The connector under test, in its own process: exactly what `target-profile-sink run` starts
 * (startSink with the Prometheus metrics and run stats observers), plus timing hooks. Reports
 * once every partition's committed offset reaches the given end, then stops the sink cleanly.
 */
import type { SourceRecord } from '../../connector/adapters/kafka/consumer.js';
import { loadConfig } from '../../connector/adapters/config/load.js';
import { createLogger } from '../../connector/observe/logger.js';
import { createMetrics } from '../../connector/observe/metrics.js';
import { pipelineObservers } from '../../connector/observe/pipeline-observers.js';
import { RunStats, type RunSummary } from '../../connector/observe/run-stats.js';
import { startSink } from '../../connector/apps/common/kafka-sink.js';
import { mark, serve } from './protocol.js';

export interface SinkRunParams {
  configPath: string;
  /** [topic, partition, end offset]: done when every committed offset reaches its end. */
  ends: Array<[string, number, number]>;
  /** Give up after this long (the result then says `complete: false`). */
  timeoutMs: number;
}

/** The run's counters (RunStats') plus what only this harness measures. */
export interface SinkRunResult extends Pick<RunSummary, 'delivered' | 'filtered' | 'deadLettered' | 'requests' | 'failedRequests' | 'retries' | 'coalesced'> {
  complete: boolean;
  events: number;
  /** Process start → first event handed to delivery (module loading, connect, group join). */
  startupMs: number;
  /** First event fetched → every end offset committed. */
  runMs: number;
  /** First request sent → last request answered. */
  requestSpanMs: number;
  /** Fetch → acknowledgement of each event, milliseconds: p50, p90, p99, max. */
  heldMs: { p50: number; p90: number; p99: number; max: number };
  /** CPU seconds (user + system) this process used from the first event to the end. */
  cpuSeconds: number;
  /** RSS at the end, MiB. */
  rssMiB: number;
}

function quantiles(values: Float64Array): SinkRunResult['heldMs'] {
  const sorted = values.slice().sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1] ?? Number.NaN };
}

/**
 * BENCH_DEBUG=1: every 100 ms, on stderr: events consumed and settled in the interval, their worst
 * fetch → ack time, requests in flight and events pending (uncommitted) at that moment.
 */
const DEBUG = Boolean(process.env.BENCH_DEBUG);
const debug = { consumed: 0, settled: 0, maxHeld: 0, inFlight: 0 };
function startDebug(pending: () => number): void {
  if (!DEBUG) return;
  setInterval(() => {
    const t = (performance.now() / 1000).toFixed(1);
    process.stderr.write(
      `[sink ${t}s] consumed ${debug.consumed} settled ${debug.settled} maxHeld ${debug.maxHeld.toFixed(0)} ms inFlight ${debug.inFlight} pending ${pending()}\n`,
    );
    debug.consumed = debug.settled = debug.maxHeld = 0;
  }, 100).unref();
}

serve<SinkRunParams, SinkRunResult>(async (params, ready) => {
  const config = await loadConfig(params.configPath);
  const logger = createLogger({ level: 'warn', pretty: false });
  const stats = new RunStats();
  const base = pipelineObservers<SourceRecord>(createMetrics(), stats);

  const remaining = new Map(params.ends.filter(([, , end]) => end > 0).map(([t, p, end]) => [`${t}|${p}`, end]));
  let firstEventAt: number | undefined;
  let cpuAtFirst: NodeJS.CpuUsage | undefined;
  let firstRequestAt = Number.NaN;
  let lastRequestAt = Number.NaN;
  let held = new Float64Array(1 << 16);
  let heldCount = 0;
  let markDone: () => void = () => {};
  const done = new Promise<void>((resolve) => (markDone = resolve));
  if (remaining.size === 0) markDone();

  const sink = await startSink(config, logger, {
    ...base,
    lanes: {
      ...base.lanes,
      requestStarted(request) {
        if (Number.isNaN(firstRequestAt)) firstRequestAt = performance.now();
        debug.inFlight++;
        base.lanes.requestStarted?.(request);
      },
      requestFinished(request, outcome) {
        lastRequestAt = performance.now();
        debug.inFlight--;
        base.lanes.requestFinished?.(request, outcome);
      },
    },
    pipeline: {
      ...base.pipeline,
      consumed(topic) {
        if (firstEventAt === undefined) {
          firstEventAt = performance.now();
          cpuAtFirst = process.cpuUsage();
          mark('first-event');
        }
        debug.consumed++;
        base.pipeline.consumed?.(topic);
      },
      settled(event, outcome, heldMs) {
        if (heldCount === held.length) {
          const grown = new Float64Array(held.length * 2);
          grown.set(held);
          held = grown;
        }
        held[heldCount++] = heldMs;
        if (DEBUG) {
          debug.settled++;
          debug.maxHeld = Math.max(debug.maxHeld, heldMs);
        }
        base.pipeline.settled?.(event, outcome, heldMs);
      },
    },
    commits: {
      committed(commits) {
        for (const c of commits) {
          const key = `${c.stream}|${c.partition}`;
          const end = remaining.get(key);
          if (end !== undefined && Number(c.offset) >= end) remaining.delete(key);
        }
        if (remaining.size === 0) markDone();
      },
    },
  });
  // An interrupted benchmark stops the child with SIGTERM: leaving the group lets the parent delete it.
  process.once('SIGTERM', () => void sink.stop(0).finally(() => process.exit(143)));
  ready();
  startDebug(() => sink.pipeline.pending);
  const timedOut = await Promise.race([done.then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), params.timeoutMs).unref())]);
  const endedAt = performance.now();
  mark('done');
  const cpu = process.cpuUsage(cpuAtFirst);
  const { delivered, filtered, deadLettered, requests, failedRequests, retries, coalesced, consumed } = stats.summary();
  const result: SinkRunResult = {
    complete: !timedOut,
    events: consumed,
    delivered,
    filtered,
    deadLettered,
    requests,
    failedRequests,
    retries,
    coalesced,
    // performance.now() counts from process start.
    startupMs: firstEventAt ?? endedAt,
    runMs: endedAt - (firstEventAt ?? endedAt),
    requestSpanMs: lastRequestAt - firstRequestAt,
    heldMs: quantiles(held.subarray(0, heldCount)),
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    rssMiB: process.memoryUsage().rss / 2 ** 20,
  };
  await sink.stop();
  return result;
});
