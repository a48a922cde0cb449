/**
 * The process's source of randomness for retry jitter. Unseeded on purpose: replicas retrying
 * after the same outage must not draw the same delays. Tests inject a seeded source instead.
 */

/** Uniform numbers in [0, 1) from the runtime's generator. */
export const systemRandom: () => number = Math.random;
