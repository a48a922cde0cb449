/** The demo's closing report and its human-readable form (pure: no I/O, so tests pin the layout). */
import type { RunSummary } from '../../observe/run-stats.js';
import type { LiveSwipes } from './live-swipes.js';
import type { ShownProfile } from './read-back.js';

/** An event the connector wrote to the dead-letter topic, with the reason it gave. */
export interface DeadLetterNote {
  topic: string;
  code: string;
  message: string;
}

/** What one demo run did, from production to the profiles read back. */
export interface DemoReport {
  brokers: string[];
  /** True when the demo started the local broker for this run (and stopped it afterwards). */
  startedKafka: boolean;
  deadLetterTopic: string;
  sampleEvents: number;
  malformedEvents: number;
  /** The connector's own counts, taken once every partition was committed. */
  run: RunSummary;
  deadLetters: DeadLetterNote[];
  clientCode: string;
  profiles: ShownProfile[];
  /** Loyalty swipes produced live once the backlog was delivered, through the real-time door. */
  liveSwipes?: LiveSwipes;
}

/** The `q` quantile (0–1) of sorted numbers. */
function quantile(sorted: readonly number[], q: number): number | undefined {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const count = (n: number): string => n.toLocaleString('en-US');

/** Milliseconds with a decimal only where it carries information. */
function ms(value: number | undefined): string {
  if (value === undefined) return 'n/a';
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value).toLocaleString('en-US')} ms`;
}

/** The summary printed on stdout at the end of `target-profile-sink demo`. */
export function formatSummary(report: DemoReport): string {
  const { run } = report;
  const produced = report.sampleEvents + report.malformedEvents;
  const kafka = `${report.brokers.join(',')}${report.startedKafka ? ', started for this run' : ''}`;
  const row = (label: string, value: string, note = '') => `  ${label.padEnd(20)}${value.padStart(10)}${note ? `   ${note}` : ''}`;
  const lines = [
    `target-profile-sink demo: Kafka (${kafka}) → connector → Target sandbox`,
    '',
    row('events produced', count(produced), `${count(report.sampleEvents)} sample + ${count(report.malformedEvents)} malformed`),
    row('delivered', count(run.delivered), 'acknowledged by Target'),
    row('filtered', count(run.filtered), "skipped by the mapping's when conditions"),
    row('dead-lettered', count(run.deadLettered), `written to ${report.deadLetterTopic}`),
    row('requests sent', count(run.requests), run.failedRequests > 0 ? `${count(run.failedRequests)} failed, ${count(run.retries)} retried` : ''),
    row('updates coalesced', count(run.coalesced), 'merged into a queued update for the same profile'),
    row('throughput', count(Math.round(run.eventsPerSecond)), `events/s over ${(run.elapsedMs / 1000).toFixed(1)} s`),
    `  ${'request latency'.padEnd(20)}p50 ${ms(run.requestLatencyMs.p50)}, p99 ${ms(run.requestLatencyMs.p99)}`,
    `  ${'event to ack'.padEnd(20)}p50 ${ms(run.eventLatencyMs.p50)}, p99 ${ms(run.eventLatencyMs.p99)}`,
  ];
  if (report.liveSwipes) {
    const sorted = [...report.liveSwipes.appliedMs].sort((a, b) => a - b);
    const late = report.liveSwipes.produced - sorted.length;
    lines.push(
      `  ${'swipe to profile'.padEnd(20)}p50 ${ms(quantile(sorted, 0.5))}, p99 ${ms(quantile(sorted, 0.99))}   ` +
        `${count(report.liveSwipes.produced)} live loyalty swipes, produce → applied by the Delivery API (route: realtime)` +
        (late > 0 ? `; ${count(late)} not applied within 10 s` : ''),
    );
  }
  if (report.deadLetters.length > 0) {
    lines.push('', 'dead letters (the reason travels in the record headers)');
    for (const d of report.deadLetters) lines.push(`  ${d.topic}  ${d.code}: ${d.message}`);
  }
  lines.push('', `profiles read back (GET /rest/v1/profiles/thirdPartyId/<id>?client=${report.clientCode})`);
  if (report.profiles.length === 0) lines.push('  (none: no profile was updated)');
  for (const profile of report.profiles) {
    lines.push(`  ${profile.id}`);
    const names = Object.keys(profile.attributes).sort();
    const width = Math.max(...names.map((n) => n.length));
    for (const name of names) lines.push(`    ${name.padEnd(width)}  ${profile.attributes[name] ?? ''}`);
  }
  return `${lines.join('\n')}\n`;
}
