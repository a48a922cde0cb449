/** Settlements for tests that hand updates to the lanes directly. */
import type { Settlement } from '../../connector/core/delivery/route.js';
import type { UpdateResult } from '../../connector/core/delivery/send-result.js';

/** A settlement that calls `settle` with the update's result. */
export function settling(settle: (result: UpdateResult) => void): Settlement {
  return { settle };
}
