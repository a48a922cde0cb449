/** Whether the shared quota store (Redis) answers and runs the budget's script, when the config names one. */
import { RedisSharedWindow } from '../../adapters/redis/shared-window.js';
import type { Config } from '../../core/config.js';
import { describeError } from '../../core/errors.js';
import { withoutCredentials } from '../common/http-probe.js';
import { failed, passed, skipped, type ProbeResult } from '../common/probe.js';

/** Runs the budget's script once, taking nothing, as `run` would; `timeoutMs` bounds the wait. */
export async function probeQuotaStore(delivery: Config['delivery'], timeoutMs: number): Promise<ProbeResult> {
  const store = delivery.quota_store;
  if (store.kind !== 'redis' || store.url === undefined) return skipped('quota store', 'local: each replica keeps its share, nothing to reach');
  const shown = withoutCredentials(store.url);
  const window = new RedisSharedWindow({
    url: store.url,
    keyPrefix: store.key_prefix,
    name: 'requests',
    holdMs: 0,
    tls: store.tls || store.url.startsWith('rediss://'),
    username: store.username,
    password: store.password,
    timeoutMs,
  });
  try {
    await window.record(0, delivery.quota_window_ms);
    return passed('quota store', `Redis at ${shown} runs the quota script (key prefix ${store.key_prefix})`);
  } catch (err) {
    return failed('quota store', `Redis at ${shown} did not answer the quota script: ${describeError(err).message}`);
  } finally {
    await window.close();
  }
}
