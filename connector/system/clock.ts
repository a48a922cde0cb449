/**
 * The process's real clock and timers: the one implementation of the core's `Clock` port that
 * reads the wall clock. It lives outside the core, which must get time only by injection.
 */
import type { Clock } from '../core/clock.js';

/** The process's real clock and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(ms, fn) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};
