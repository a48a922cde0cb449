/**
 * The fleet's shared rolling window in Redis: one hash of per-bucket counts, read and updated by
 * an atomic Lua script, so replicas never take more than the limit together. Time comes from the
 * Redis server, one clock for the whole fleet.
 */
import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { SharedWindowStore } from '../../core/delivery/fleet-budget.js';
import { describeError, QuotaStoreUnavailableError } from '../../core/errors.js';

/** Where the window lives and how to reach it. */
export interface RedisWindowOptions {
  url: string;
  /** Prefix of the keys, so that several connectors (or accounts) can share one Redis. */
  keyPrefix: string;
  /** The window's name under the prefix, e.g. `requests` or `bulk-rows`. */
  name: string;
  /**
   * How long after its reservation a unit may reach Target (time in the pool and a request's
   * timeout): units are counted from then, so the window never releases them before Target does.
   */
  holdMs: number;
  tls?: boolean | { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean };
  username?: string;
  password?: string;
  /** Give up on one call after this long: the budget falls back rather than wait. */
  timeoutMs: number;
}

// KEYS[1]: the window hash; KEYS[2]: the window's epoch, set once by whoever finds it missing, so
// that replicas notice a store that lost its window (restarted without persistence, flushed).
// ARGV: want, at least, limit, window ms, bucket ms, hold ms, a fresh epoch
// (want = -units: record units already spent, whatever the limit).
const SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local want = tonumber(ARGV[1])
local atLeast = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local bucket = tonumber(ARGV[5])
local hold = tonumber(ARGV[6])
local epoch = redis.call('GET', KEYS[2])
if not epoch then
  epoch = ARGV[7]
  redis.call('SET', KEYS[2], epoch)
end
local entries = redis.call('HGETALL', KEYS[1])
local used = 0
local oldest = nil
for i = 1, #entries, 2 do
  local start = tonumber(entries[i])
  if start + bucket + window <= now then
    redis.call('HDEL', KEYS[1], entries[i])
  else
    used = used + tonumber(entries[i + 1])
    if oldest == nil or start < oldest then oldest = start end
  end
end
local granted
if want < 0 then
  granted = -want
else
  granted = math.max(0, math.min(want, limit - used))
  if granted < atLeast then granted = 0 end
end
if granted > 0 then
  local at = now + hold
  local b = at - (at % bucket)
  redis.call('HINCRBY', KEYS[1], tostring(b), granted)
  used = used + granted
  if oldest == nil or b < oldest then oldest = b end
end
redis.call('PEXPIRE', KEYS[1], window + bucket + hold)
redis.call('PEXPIRE', KEYS[2], window + bucket + hold)
local retry = 0
if oldest ~= nil then retry = oldest + bucket + window - now end
return {granted, used, retry, epoch}
`;

type ReserveReply = [number, number, number, string];

/** A SharedWindowStore over Redis; `close()` ends the connection. */
export class RedisSharedWindow implements SharedWindowStore {
  private readonly redis: Redis & { reserveWindow(key: string, epochKey: string, ...args: Array<number | string>): Promise<ReserveReply> };
  private readonly key: string;
  /** Why the connection failed last, to say why a call could not be made. */
  private lastError: unknown;
  /** The one wait for the connection that every call made before it is ready shares. */
  private connecting: Promise<void> | undefined;

  constructor(private readonly options: RedisWindowOptions) {
    const redisOptions: RedisOptions = {
      // Fail fast while Redis is away: the budget falls back to the assignment share instead of queueing.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: options.timeoutMs,
      commandTimeout: options.timeoutMs,
      retryStrategy: () => 1000,
      lazyConnect: false,
      ...(options.username !== undefined && { username: options.username }),
      ...(options.password !== undefined && { password: options.password }),
      ...(options.tls && { tls: typeof options.tls === 'object' ? { ...options.tls } : {} }),
    };
    const redis = new Redis(options.url, redisOptions);
    // Errors surface through the calls that fail; without a listener ioredis would log them itself.
    redis.on('error', (err: unknown) => (this.lastError = err));
    redis.defineCommand('reserveWindow', { numberOfKeys: 2, lua: SCRIPT });
    this.redis = redis as typeof this.redis;
    this.key = `${options.keyPrefix}:quota:${options.name}`;
  }

  async reserve(want: number, atLeast: number, limit: number, windowMs: number): Promise<{ granted: number; used: number; retryInMs: number; epoch: string }> {
    return this.call(want, atLeast, limit, windowMs);
  }

  async record(units: number, windowMs: number): Promise<{ epoch: string }> {
    return this.call(-units, 0, 0, windowMs);
  }

  private async call(want: number, atLeast: number, limit: number, windowMs: number) {
    await this.connected();
    try {
      // A new name for the epoch at every call: whoever finds it missing starts a window no one saw before.
      const [granted, used, retryInMs, epoch] = await this.redis.reserveWindow(
        this.key,
        `${this.key}:epoch`,
        want,
        atLeast,
        limit,
        windowMs,
        bucketOf(windowMs),
        this.options.holdMs,
        randomUUID(),
      );
      return { granted, used, retryInMs, epoch };
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  /**
   * Resolves once connected (at once when it is); rejects when the connection fails or takes
   * longer than the timeout. Calls arriving meanwhile share one wait: a listener per call would
   * pile up on the client while Redis is slow or away.
   */
  private connected(): Promise<void> {
    if (this.redis.status === 'ready') return Promise.resolve();
    this.connecting ??= this.waitForReady().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private waitForReady(): Promise<void> {
    const redis = this.redis;
    return new Promise<void>((resolve, reject) => {
      const done = (error?: unknown) => {
        clearTimeout(timer);
        redis.off('ready', done);
        redis.off('error', done);
        if (error === undefined) resolve();
        else reject(this.unavailable(error));
      };
      const timer = setTimeout(() => done(this.lastError ?? new Error(`no connection within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
      redis.once('ready', done);
      redis.once('error', done);
    });
  }

  /** Only the message: ioredis' errors carry the command they failed on, AUTH and its password included. */
  private unavailable(cause: unknown): QuotaStoreUnavailableError {
    return new QuotaStoreUnavailableError(describeError(cause).message);
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    this.redis.disconnect();
  }
}

/** Buckets of a thousandth of the window keep the hash small, as the local RollingQuota does. */
function bucketOf(windowMs: number): number {
  return Math.max(1, Math.ceil(windowMs / 1000));
}
