import type { Logger } from 'pino';
import type { RunStats, RunSummary } from './run-stats.js';

/** Extra live figures the stats do not hold. */
export interface ProgressProbe {
  pending(): number;
  quotaRemaining(): number;
}

/** One human line: rate, pending, quota, errors. */
export function progressLine(s: RunSummary, probe: ProgressProbe): string {
  return (
    `${s.consumed} read · ${s.delivered} delivered · ${s.filtered} filtered · ${s.deadLettered} dead-lettered · ` +
    `${Math.round(s.eventsPerSecond)}/s · pending ${probe.pending()} · quota ${probe.quotaRemaining()} · ` +
    `retries ${s.retries}`
  );
}

/**
 * Reports progress while `run` works: on a terminal one line redrawn every second; otherwise a
 * summary log line every `intervalMs`, which is what log collectors want. Returns a stop function.
 */
export function startProgress(stats: RunStats, probe: ProgressProbe, logger: Logger, intervalMs = 30_000): () => void {
  const tty = process.stderr.isTTY === true;
  const timer = setInterval(
    () => {
      const summary = stats.summary();
      if (tty) process.stderr.write(`\r\x1b[2K${progressLine(summary, probe)}`);
      else logger.info({ progress: summary, pending: probe.pending(), quotaRemaining: probe.quotaRemaining() }, 'progress');
    },
    tty ? 1000 : intervalMs,
  );
  timer.unref();
  return () => {
    clearInterval(timer);
    if (tty) process.stderr.write('\n');
  };
}
