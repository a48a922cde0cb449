/** The progress display of long commands: a redrawn status line on a terminal, periodic log lines elsewhere. */
import type { Logger } from 'pino';
import type { RunStats } from './run-stats.js';
import { stderrStatusLine } from './terminal-line.js';

/** What a progress report shows: one human line, and the same figures as log fields. */
export interface ProgressSource {
  line(): string;
  fields(): Record<string, unknown>;
}

/** Extra live figures of `run` the stats do not hold. */
export interface ProgressProbe {
  pending(): number;
  quotaRemaining(): number;
}

/** The progress of `run`: rate, pending, quota, errors. */
export function runProgress(stats: RunStats, probe: ProgressProbe): ProgressSource {
  return {
    line() {
      const s = stats.summary();
      return (
        `${s.consumed} read · ${s.delivered} delivered · ${s.filtered} filtered · ${s.deadLettered} dead-lettered · ` +
        `${Math.round(s.eventsPerSecond)}/s · pending ${probe.pending()} · quota ${probe.quotaRemaining()} · ` +
        `retries ${s.retries}`
      );
    },
    fields: () => ({ progress: stats.summary(), pending: probe.pending(), quotaRemaining: probe.quotaRemaining() }),
  };
}

/**
 * Reports progress while a command works: on a terminal one status line redrawn every second,
 * which log lines erase and redraw (terminal-line.ts); otherwise a `progress` log line every
 * `intervalMs`, which is what log collectors want. Returns a stop function.
 */
export function startProgress(source: ProgressSource, logger: Logger, intervalMs = 30_000): () => void {
  const line = process.stderr.isTTY === true ? stderrStatusLine() : undefined;
  const timer = setInterval(
    () => {
      if (line) line.draw(source.line());
      else logger.info(source.fields(), 'progress');
    },
    line ? 1000 : intervalMs,
  );
  timer.unref();
  return () => {
    clearInterval(timer);
    line?.end();
  };
}
