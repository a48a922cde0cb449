/**
 * The account's budgets as a fleet member holds them: its assignment share of the quota (local),
 * or one shared window in Redis with the share as fallback — for single requests, for bulk rows
 * when `delivery.bulk.daily_row_quota` is set, for Delivery API calls when
 * `delivery.realtime.daily_call_budget` is, and for bulk API calls (`delivery.bulk.calls_per_minute`,
 * in a window of a minute) unless bulk is off.
 */
import { RedisSharedWindow } from '../../adapters/redis/shared-window.js';
import type { Clock } from '../../core/clock.js';
import type { Config } from '../../core/config.js';
import { AssignmentShare } from '../../core/delivery/assignment-share.js';
import type { Budget } from '../../core/delivery/budget.js';
import { FleetBudget, type FleetBudgetObserver } from '../../core/delivery/fleet-budget.js';
import { RollingQuota } from '../../core/delivery/rolling-quota.js';
import { BULK_CALL_WINDOW_MS } from '../../core/target-api/limits.js';

/** What a fleet member takes from, and how its share follows its assignment. */
export interface AccountBudgets {
  requests: Budget;
  /** Bulk rows; absent without a row quota. */
  rows: Budget | undefined;
  /** Delivery API calls of the realtime route; absent (unlimited) without a call budget. */
  calls: Budget | undefined;
  /** Bulk API calls, submits and status polls; absent with bulk off. */
  bulkCalls: Budget | undefined;
  /** This member owns `owned` of the `total` partitions of the mapped topics from now on. */
  assign(owned: number, total: number): void;
  /** This member's limit on single requests now (its share, or the account's quota when shared). */
  requestLimit(): number;
  close(): Promise<void>;
}

/** How often a member falling back tries Redis again. */
const RECONNECT_MS = 1000;

/** Reserved units unused this long are dropped, so the store needs to count them only this long plus a request's timeout. */
const POOL_TTL_MS = 1000;

/** A Redis reservation of at most this share of the quota: small enough to waste little when a member dies with it. */
const BATCH_SHARE = 1 / 200;

/** The budgets the config's `delivery.quota_store` describes. */
export function accountBudgets(config: Config, clock: Clock, observer: FleetBudgetObserver = {}): AccountBudgets {
  const { delivery, target } = config;
  const window = delivery.quota_window_ms;
  const rowQuota = delivery.bulk.daily_row_quota;
  const requestShare = new AssignmentShare(delivery.daily_quota, window, clock);
  const rowShare = rowQuota === undefined ? undefined : new AssignmentShare(rowQuota, window, clock);
  const callBudget = realtimeCallBudgetOf(config);
  const callShare = callBudget === undefined ? undefined : new AssignmentShare(callBudget, window, clock);
  const bulkCallLimit = delivery.bulk.calls_per_minute;
  const bulkCallShare = delivery.bulk.mode === 'off' ? undefined : new AssignmentShare(bulkCallLimit, BULK_CALL_WINDOW_MS, clock);
  const store = delivery.quota_store;
  const assign = (owned: number, total: number) => {
    requestShare.assign(owned, total);
    rowShare?.assign(owned, total);
    callShare?.assign(owned, total);
    bulkCallShare?.assign(owned, total);
  };
  if (store.kind === 'local') {
    return {
      requests: new RollingQuota(
        () => requestShare.limit(),
        window,
        () => clock.now(),
        "this replica's share of the single-update daily quota (delivery.daily_quota split by the partitions it owns)",
      ),
      rows:
        rowShare &&
        new RollingQuota(
          () => rowShare.limit(),
          window,
          () => clock.now(),
          "this replica's share of the bulk row quota (delivery.bulk.daily_row_quota split by the partitions it owns)",
        ),
      calls:
        callShare &&
        new RollingQuota(
          () => callShare.limit(),
          window,
          () => clock.now(),
          "this replica's share of the Delivery API call budget (delivery.realtime.daily_call_budget split by the partitions it owns)",
        ),
      bulkCalls:
        bulkCallShare &&
        new RollingQuota(
          () => bulkCallShare.limit(),
          BULK_CALL_WINDOW_MS,
          () => clock.now(),
          "this replica's share of the bulk API calls a minute (delivery.bulk.calls_per_minute split by the partitions it owns)",
        ),
      assign,
      requestLimit: () => requestShare.limit(),
      close: async () => {},
    };
  }
  const windowStore = (name: string) =>
    new RedisSharedWindow({
      url: store.url as string,
      keyPrefix: store.key_prefix,
      name,
      holdMs,
      tls: store.tls || (store.url as string).startsWith('rediss://'),
      username: store.username,
      password: store.password,
      timeoutMs: Math.min(2000, target.timeout_ms),
    });
  // A unit waits in the pool for up to POOL_TTL_MS, then its request reaches Target within the timeout.
  const holdMs = target.timeout_ms + POOL_TTL_MS;
  const requestStore = windowStore('requests');
  const rowStore = rowQuota === undefined ? undefined : windowStore('bulk-rows');
  const callStore = callBudget === undefined ? undefined : windowStore('delivery-calls');
  const bulkCallStore = bulkCallShare && windowStore('bulk-calls');
  const fleet = (name: string, storeOf: RedisSharedWindow, limit: number, share: AssignmentShare, observer: FleetBudgetObserver, windowMs = window) =>
    new FleetBudget({
      name,
      store: storeOf,
      limit,
      windowMs,
      holdMs,
      poolTtlMs: POOL_TTL_MS,
      share,
      clock,
      maxBatch: Math.max(1, Math.floor(limit * BATCH_SHARE)),
      reconnectMs: RECONNECT_MS,
      observer,
    });
  const requests = fleet('requests', requestStore, delivery.daily_quota, requestShare, observer);
  const rows = rowStore && rowShare && rowQuota !== undefined ? fleet('bulk rows', rowStore, rowQuota, rowShare, { fallback: observer.fallback }) : undefined;
  const calls =
    callStore && callShare && callBudget !== undefined
      ? fleet('Delivery API calls', callStore, callBudget, callShare, { fallback: observer.fallback })
      : undefined;
  const bulkCalls =
    bulkCallStore &&
    bulkCallShare &&
    fleet('bulk API calls', bulkCallStore, bulkCallLimit, bulkCallShare, { fallback: observer.fallback }, BULK_CALL_WINDOW_MS);
  return {
    requests,
    rows,
    calls,
    bulkCalls,
    assign,
    requestLimit: () => (requests.fallingBack ? requestShare.limit() : delivery.daily_quota),
    async close() {
      requests.stop();
      rows?.stop();
      calls?.stop();
      bulkCalls?.stop();
      await Promise.all([requestStore.close(), rowStore?.close(), callStore?.close(), bulkCallStore?.close()]);
    },
  };
}

/** `delivery.realtime.daily_call_budget`, undefined when it sets no limit (absent or 0). */
export function realtimeCallBudgetOf(config: Config): number | undefined {
  const budget = config.delivery.realtime.daily_call_budget;
  return budget === undefined || budget === 0 ? undefined : budget;
}
