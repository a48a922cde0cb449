/** Queues rows through a bulk route's own path (`send`, settled through its host) without lanes, one callback per row. */
import type { BulkRoute } from '../../../connector/core/delivery/bulk-route.js';
import type { LaneRef } from '../../../connector/core/delivery/route.js';
import type { UpdateResult } from '../../../connector/core/delivery/send-result.js';

/** Per route, the callback of each row's lane; a route gets its host at its first row. */
const callbacks = new WeakMap<BulkRoute, Map<LaneRef, (result: UpdateResult) => void>>();

/** Sends a profile's row as the lanes would (its later folds aside); `done` hears how the row ended, once. */
export function sendRow(route: BulkRoute, id: string, attributes: Record<string, string>, done: (result: UpdateResult) => void): void {
  let dones = callbacks.get(route);
  if (!dones) {
    const byLane = new Map<LaneRef, (result: UpdateResult) => void>();
    dones = byLane;
    callbacks.set(route, byLane);
    route.attach({
      take: () => undefined,
      finished: (lane, result) => {
        const heard = byLane.get(lane);
        byLane.delete(lane);
        heard?.(result);
      },
      abandon: () => {},
      reached: () => {},
      blockedChanged: () => {},
    });
  }
  const lane = { key: `mbox3rdPartyId:${id}` };
  dones.set(lane, done);
  if (!route.send(lane, { identity: { kind: 'mbox3rdPartyId', value: id }, attributes, claims: [] })) {
    throw new Error(`the bulk route did not take the row of ${id}`);
  }
}
