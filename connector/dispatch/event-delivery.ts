import type { MappingOutcome } from '../mapping/index.js';
import type { ProfileUpdate } from '../profile.js';
import type { Dispatcher } from './dispatcher.js';

/**
 * How one event ended; only `failed` events go to the dead-letter topic. `cancelled` events were
 * dropped unsent because their partition moved to another member, which will read them again.
 */
export type EventOutcome =
  | { kind: 'delivered'; updates: number }
  | { kind: 'filtered'; reason: string }
  | { kind: 'failed'; error: unknown; attempts: number }
  | { kind: 'cancelled' };

/**
 * Hands an event's mapped updates to the dispatcher and reports once, when every update has
 * settled. An event any of whose mappings failed is sent nowhere and fails as a whole, so that
 * replaying it from the dead-letter topic cannot apply half of it twice.
 */
export function deliverEvent(
  outcomes: MappingOutcome[],
  dispatcher: Dispatcher,
  done: (outcome: EventOutcome) => void,
  live?: () => boolean,
): void {
  const updates: ProfileUpdate[] = [];
  let filteredReason: string | undefined;
  for (const o of outcomes) {
    if (o.kind === 'error') return done({ kind: 'failed', error: o.error, attempts: 0 });
    if (o.kind === 'update') updates.push(o.update);
    else filteredReason ??= o.reason;
  }
  if (updates.length === 0) return done({ kind: 'filtered', reason: filteredReason ?? 'no mapping for topic' });

  let remaining = updates.length;
  let failure: { error: unknown; attempts: number } | undefined;
  let cancelled = false;
  for (const update of updates) {
    dispatcher.submit(
      update,
      (result) => {
        if (result.status === 'failed') failure ??= { error: result.error, attempts: result.attempts };
        if (result.status === 'cancelled') cancelled = true;
        if (--remaining > 0) return;
        if (cancelled) done({ kind: 'cancelled' });
        else done(failure ? { kind: 'failed', ...failure } : { kind: 'delivered', updates: updates.length });
      },
      live,
    );
  }
}
