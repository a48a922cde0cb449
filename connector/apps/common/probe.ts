/** The probes of `check` and how their results fold into one CONNECTION_STATUS. */
import type { ConnectionStatus } from '../../adapters/airbyte/messages.js';

/** Every probe, in the order the status message lists them. */
export const PROBES = [
  'config',
  'brokers',
  'topics',
  'dead-letter topic',
  'schema registry',
  'mapping',
  'Target endpoint',
  'Target Delivery endpoint',
  'quota store',
] as const;

/** The name of one probe, as the status message shows it. */
export type ProbeName = (typeof PROBES)[number];

/** How one probe ended; `skipped` means it could not run (or does not apply) and does not fail the check. */
export interface ProbeResult {
  probe: ProbeName;
  status: 'passed' | 'failed' | 'skipped';
  detail: string;
}

/** A passed probe with what it found. */
export function passed(probe: ProbeName, detail: string): ProbeResult {
  return { probe, status: 'passed', detail };
}

/** A failed probe with what is wrong. */
export function failed(probe: ProbeName, detail: string): ProbeResult {
  return { probe, status: 'failed', detail };
}

/** A probe that did not run, with why. */
export function skipped(probe: ProbeName, detail: string): ProbeResult {
  return { probe, status: 'skipped', detail };
}

const line = (r: ProbeResult) => `${r.probe}: ${r.detail}`;

/**
 * SUCCEEDED when no probe failed. The message names every failed probe with its detail (one per
 * line), then what passed and what could not be checked, so one run shows everything to fix.
 */
export function connectionStatus(results: readonly ProbeResult[]): { status: ConnectionStatus; message: string } {
  const ordered = [...results].sort((a, b) => PROBES.indexOf(a.probe) - PROBES.indexOf(b.probe));
  const failures = ordered.filter((r) => r.status === 'failed');
  const passes = ordered.filter((r) => r.status === 'passed');
  const skips = ordered.filter((r) => r.status === 'skipped');
  if (failures.length === 0) {
    return { status: 'SUCCEEDED', message: `all checks passed: ${[...passes, ...skips].map(line).join('; ')}` };
  }
  const lines = [`${failures.length} of ${ordered.length} checks failed`, ...failures.map(line)];
  if (passes.length > 0) lines.push(`passed: ${passes.map((r) => r.probe).join(', ')}`);
  if (skips.length > 0) lines.push(`not checked: ${skips.map((r) => `${r.probe} (${r.detail})`).join(', ')}`);
  return { status: 'FAILED', message: lines.join('\n') };
}
