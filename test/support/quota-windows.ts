/**
 * Requests per quota window as the Target sandbox saw them (its log's arrival times): the busiest
 * sliding window of the fleet and of each replica, and plain per-window counts for the test logs.
 */
import type { LoggedUpdate } from '../../connector/tools/sandbox/update-log.js';
import { REPLICA_ATTRIBUTE, withoutProbes } from './fleet.js';

/** The busiest window: how many requests arrived in [start, start + window). */
export interface WindowPeak {
  count: number;
  /** Epoch ms; NaN when nothing arrived. */
  start: number;
}

/** Arrival times (epoch ms, ascending) of the updates, only `replica`'s when given. */
export function arrivals(updates: readonly LoggedUpdate[], replica?: string): number[] {
  return withoutProbes(updates)
    .filter((u) => replica === undefined || u.attributes[REPLICA_ATTRIBUTE] === replica)
    .map((u) => Date.parse(u.receivedAt))
    .sort((a, b) => a - b);
}

/**
 * The most of `times` (ascending) in any window [t, t + windowMs) with t in [from, to]. The
 * count only changes at an arrival, so the windows starting at `from` and at each arrival in
 * range are the only ones to look at.
 */
export function busiestWindow(times: readonly number[], windowMs: number, from = -Infinity, to = Infinity): WindowPeak {
  let best: WindowPeak = { count: 0, start: Number.NaN };
  const starts = [...(Number.isFinite(from) ? [from] : []), ...times.filter((t) => t >= from && t <= to)];
  let first = 0;
  let end = 0;
  for (const start of starts) {
    while (first < times.length && (times[first] as number) < start) first++;
    end = Math.max(end, first);
    while (end < times.length && (times[end] as number) < start + windowMs) end++;
    if (end - first > best.count) best = { count: end - first, start };
  }
  return best;
}

/** The busiest window of the whole fleet and of each replica (by the replica attribute of its updates). */
export function windowPeaks(updates: readonly LoggedUpdate[], windowMs: number): { fleet: WindowPeak; byReplica: Map<string, WindowPeak> } {
  const replicas = new Set(withoutProbes(updates).map((u) => u.attributes[REPLICA_ATTRIBUTE] ?? '(none)'));
  return {
    fleet: busiestWindow(arrivals(updates), windowMs),
    byReplica: new Map([...replicas].sort().map((r) => [r, busiestWindow(arrivals(updates, r), windowMs)])),
  };
}

/** Requests in consecutive windows [origin + i·windowMs, origin + (i+1)·windowMs), up to the last arrival. */
export function countsPerWindow(times: readonly number[], windowMs: number, origin: number): number[] {
  const counts: number[] = [];
  for (const t of times) {
    if (t < origin) continue;
    const i = Math.floor((t - origin) / windowMs);
    while (counts.length <= i) counts.push(0);
    counts[i] = (counts[i] as number) + 1;
  }
  return counts;
}
