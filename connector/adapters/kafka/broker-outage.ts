/**
 * A broker outage as the operator should read it: one warning when Kafka stops answering (with
 * the cause and what happens meanwhile), one a minute while it lasts, one when it answers again —
 * instead of a line per reconnection attempt. Fed by kafkajs' log lines and the consumer's
 * instrumentation events (failures), and by heartbeats, fetches and joins (signs of health).
 */
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';

/** What the tracker reports. */
export interface BrokerOutageReport {
  down(info: { cause: string }): void;
  stillDown(info: { cause: string; downForMs: number }): void;
  recovered(info: { downForMs: number }): void;
}

export interface BrokerOutageOptions {
  /** Failures must go on this long, with no sign of health between, before they are an outage (a dropped connection that kafkajs reopens at once is not). */
  graceMs?: number;
  /** How often a lasting outage is repeated. */
  repeatMs?: number;
}

/** Tracks whether Kafka answers; reports only while armed (start-up failures are reported by the start-up path). */
export class BrokerOutage {
  private armed = false;
  private suspectSince: number | undefined;
  private downSince: number | undefined;
  private lastReport = 0;
  private readonly graceMs: number;
  private readonly repeatMs: number;

  constructor(
    private readonly report: BrokerOutageReport,
    private readonly clock: Pick<Clock, 'now'>,
    options: BrokerOutageOptions = {},
  ) {
    this.graceMs = options.graceMs ?? 5000;
    this.repeatMs = options.repeatMs ?? 60_000;
  }

  /** True while an outage is reported and not yet over. */
  get down(): boolean {
    return this.downSince !== undefined;
  }

  /** Starts reporting (the consumer is running). */
  arm(): void {
    this.armed = true;
  }

  /** A failure to reach Kafka; `definite` (the consumer crashed and restarts) skips the grace period. */
  failure(cause: string, definite = false): void {
    if (!this.armed) return;
    const now = this.clock.now();
    if (this.downSince !== undefined) {
      if (now - this.lastReport < this.repeatMs) return;
      this.lastReport = now;
      this.report.stillDown({ cause, downForMs: now - this.downSince });
      return;
    }
    this.suspectSince ??= now;
    if (!definite && now - this.suspectSince < this.graceMs) return;
    this.downSince = this.suspectSince;
    this.lastReport = now;
    this.report.down({ cause });
  }

  /** A sign that Kafka answers (a heartbeat, a fetch, a join, a commit). */
  healthy(): void {
    const downSince = this.downSince;
    this.suspectSince = undefined;
    this.downSince = undefined;
    if (downSince !== undefined) this.report.recovered({ downForMs: this.clock.now() - downSince });
  }
}

/** The outage's three kinds of warning, naming the brokers. */
export function brokerOutageLog(logger: Logger, brokers: readonly string[]): BrokerOutageReport {
  const where = brokers.join(', ');
  return {
    down({ cause }) {
      logger.warn(
        { brokers, cause },
        `Kafka at ${where} cannot be reached: fetching and offset commits wait until it answers (kafkajs reconnects by itself); ` +
          'nothing is lost, events not yet committed are fetched again; repeated once a minute while it lasts',
      );
    },
    stillDown({ cause, downForMs }) {
      logger.warn({ brokers, cause, downForSeconds: Math.round(downForMs / 1000) }, `Kafka at ${where} is still unreachable; waiting`);
    },
    recovered({ downForMs }) {
      logger.warn({ brokers, downForSeconds: Math.round(downForMs / 1000) }, `Kafka at ${where} answers again; consuming resumed`);
    },
  };
}
