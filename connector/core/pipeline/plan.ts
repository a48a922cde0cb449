/**
 * What happens to one event once it is mapped: its updates are sent, it is filtered, or it goes
 * to the dead-letter topic. Pure; every entry point decides through this one function.
 */
import type { MappingOutcome } from '../mapping/index.js';
import type { ProfileUpdate } from '../profile.js';
import { omitSuperseded } from './superseded.js';

export type EventPlan =
  { kind: 'send'; updates: ProfileUpdate[]; truncated: string[] } | { kind: 'filter'; reason: string } | { kind: 'dead-letter'; error: unknown };

/** Why an event nobody maps is filtered. */
export const UNMAPPED_REASON = 'no mapping for topic';

/**
 * Plans an event from its mapping outcomes (one per mapping of its topic) and its replay omit
 * header. An event any of whose mappings failed is sent nowhere and dead-lettered whole, so that
 * replaying it cannot apply half of it twice.
 */
export function planEvent(outcomes: MappingOutcome[], replayOmit: string | undefined): EventPlan {
  const failed = outcomes.find((o) => o.kind === 'error');
  if (failed) return { kind: 'dead-letter', error: failed.error };
  const updates: ProfileUpdate[] = [];
  const truncated: string[] = [];
  let filteredReason: string | undefined;
  for (const o of omitSuperseded(outcomes, replayOmit)) {
    if (o.kind === 'update') {
      updates.push(o.update);
      if (o.truncated) truncated.push(...o.truncated);
    } else if (o.kind === 'filtered') filteredReason ??= o.reason;
  }
  if (updates.length === 0) return { kind: 'filter', reason: filteredReason ?? UNMAPPED_REASON };
  return { kind: 'send', updates, truncated };
}
