/** Fits the bulk route's bound on held events to the heap this process was given. */
import type { Logger } from 'pino';
import type { Config } from '../../core/config.js';
import { heldEventsThatFit } from '../../core/delivery/held-events.js';

/**
 * The config with `delivery.bulk.max_pending` lowered to what a heap of `heapLimitBytes` (V8's
 * heap size limit) carries, saying so once: slower batches instead of an out-of-memory crash loop.
 */
export function fitBulkToHeap(config: Config, heapLimitBytes: number, logger: Logger): Config {
  const { bulk } = config.delivery;
  if (bulk.mode === 'off') return config;
  const fitted = heldEventsThatFit(bulk.max_pending, heapLimitBytes);
  if (fitted === bulk.max_pending) return config;
  const heapMB = Math.round(heapLimitBytes / (1024 * 1024));
  logger.warn(
    { configured: bulk.max_pending, fitted, heapLimitMB: heapMB },
    `delivery.bulk.max_pending lowered from ${bulk.max_pending} to ${fitted} events to fit the heap (${heapMB} MB): ` +
      'bulk holds every event until its batch reports; give node a larger heap (NODE_OPTIONS=--max-old-space-size=512) for larger batches',
  );
  return { ...config, delivery: { ...config.delivery, bulk: { ...bulk, max_pending: fitted } } };
}
