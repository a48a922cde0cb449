/** The progress display of `run`: a redrawn status line on a terminal, periodic log lines elsewhere. */
import type { Logger } from 'pino';
import type { RunStats, RunSummary } from './run-stats.js';
import { stderrStatusLine } from './terminal-line.js';

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
 * Reports progress while `run` works: on a terminal one status line redrawn every second, which
 * log lines erase and redraw (terminal-line.ts); otherwise a summary log line every `intervalMs`,
 * which is what log collectors want. Returns a stop function.
 */
export function startProgress(stats: RunStats, probe: ProgressProbe, logger: Logger, intervalMs = 30_000): () => void {
  const line = process.stderr.isTTY === true ? stderrStatusLine() : undefined;
  const timer = setInterval(
    () => {
      const summary = stats.summary();
      if (line) line.draw(progressLine(summary, probe));
      else logger.info({ progress: summary, pending: probe.pending(), quotaRemaining: probe.quotaRemaining() }, 'progress');
    },
    line ? 1000 : intervalMs,
  );
  timer.unref();
  return () => {
    clearInterval(timer);
    line?.end();
  };
}
