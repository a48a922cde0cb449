/**
 * The fleet's shared window (the Lua script of RedisSharedWindow) against a real redis-server:
 * what it grants, how long it counts, how it names its window, and how it fails.
 */
import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisSharedWindow, type RedisWindowOptions } from '../../../connector/adapters/redis/shared-window.js';
import { QuotaStoreUnavailableError } from '../../../connector/core/errors.js';
import { waitFor } from '../../support/delivery-harness.js';
import { startTestRedis, type TestRedis } from '../../support/redis-server.js';

let redis: TestRedis | undefined;
const opened: RedisSharedWindow[] = [];
const prefixes: string[] = [];
const users: string[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((w) => w.close()));
  const server = running();
  for (const prefix of prefixes.splice(0)) await server.deleteKeys(prefix);
  for (const user of users.splice(0)) await server.withClient((c) => c.call('ACL', 'DELUSER', user));
});

afterAll(async () => {
  await redis?.stop();
});

function running(): TestRedis {
  if (!redis) throw new Error('Redis did not start (see beforeAll)');
  return redis;
}

/** A key prefix of this test alone, its keys deleted after it. */
function freshPrefix(): string {
  const prefix = `tps-test.${randomUUID().slice(0, 8)}`;
  prefixes.push(prefix);
  return prefix;
}

/**
 * A client of the window `prefix:quota:requests`, closed after the test. Its timeout leaves a
 * loaded machine time to connect; the tests about failing fast set their own.
 */
function windowOf(prefix: string, options: Partial<RedisWindowOptions> = {}): RedisSharedWindow {
  const w = new RedisSharedWindow({ url: running().url, keyPrefix: prefix, name: 'requests', holdMs: 100, timeoutMs: 5000, ...options });
  opened.push(w);
  return w;
}

/** Long enough that nothing leaves the window during a test that is not about leaving. */
const LONG_WINDOW_MS = 600_000;

/** The error a promise rejects with (fails the test when it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (err: unknown) => err,
  );
}

describe('RedisSharedWindow against a real Redis', () => {
  it('grants up to the limit and no more, across two clients', async () => {
    const prefix = freshPrefix();
    const [a, b] = [windowOf(prefix), windowOf(prefix)] as const;
    expect(await a.reserve(6, 1, 10, LONG_WINDOW_MS)).toMatchObject({ granted: 6, used: 6 });
    expect(await b.reserve(6, 1, 10, LONG_WINDOW_MS)).toMatchObject({ granted: 4, used: 10 });
    const refused = await a.reserve(1, 1, 10, LONG_WINDOW_MS);
    expect(refused).toMatchObject({ granted: 0, used: 10 });
    expect(refused.retryInMs).toBeGreaterThan(0);

    // Many calls at once from both clients: the script is atomic, so the grants add up to the limit exactly.
    const other = freshPrefix();
    const [c, d] = [windowOf(other), windowOf(other)] as const;
    const replies = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? c : d).reserve(1, 1, 25, LONG_WINDOW_MS)));
    expect(replies.reduce((sum, r) => sum + r.granted, 0)).toBe(25);
    expect(Math.max(...replies.map((r) => r.used))).toBe(25);
  });

  it('waits for the connection once however many calls wait on it (no listener per call)', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const w = windowOf(freshPrefix());
      // Every call arrives before the connection is ready: they must share one wait.
      const replies = await Promise.all(Array.from({ length: 30 }, () => w.reserve(1, 1, 100, LONG_WINDOW_MS)));
      expect(replies.reduce((sum, r) => sum + r.granted, 0)).toBe(30);
      // Node emits the warning on the next tick after the eleventh listener.
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning').map(String)).toEqual([]);
  });

  it('gives `atLeast` units or none', async () => {
    const w = windowOf(freshPrefix());
    expect(await w.reserve(7, 1, 10, LONG_WINDOW_MS)).toMatchObject({ granted: 7, used: 7 });
    expect(await w.reserve(5, 5, 10, LONG_WINDOW_MS)).toMatchObject({ granted: 0, used: 7 });
    expect(await w.reserve(5, 3, 10, LONG_WINDOW_MS)).toMatchObject({ granted: 3, used: 10 });
    expect(await w.reserve(1, 1, 10, LONG_WINDOW_MS)).toMatchObject({ granted: 0, used: 10 });
  });

  it('records units whatever the limit', async () => {
    const prefix = freshPrefix();
    const [a, b] = [windowOf(prefix), windowOf(prefix)] as const;
    const reserved = await a.reserve(8, 1, 10, LONG_WINDOW_MS);
    expect(reserved).toMatchObject({ granted: 8, used: 8 });
    expect((await b.record(5, LONG_WINDOW_MS)).epoch).toBe(reserved.epoch);
    // 13 of 10: the fleet overspent while it could not reach the store, and nothing more is granted.
    expect(await a.reserve(1, 1, 10, LONG_WINDOW_MS)).toMatchObject({ granted: 0, used: 13 });
  });

  it('counts a unit for window + hold after its reservation, then lets it go, and leaves no keys behind', async () => {
    const prefix = freshPrefix();
    const windowMs = 300;
    const holdMs = 100;
    const w = windowOf(prefix, { holdMs });
    const start = Date.now();
    expect(await w.reserve(10, 1, 10, windowMs)).toMatchObject({ granted: 10, used: 10 });
    const refused = await w.reserve(1, 1, 10, windowMs);
    expect(refused.granted).toBe(0);
    // One bucket (a thousandth of the window, at least 1 ms) of rounding at most.
    expect(refused.retryInMs).toBeGreaterThan(0);
    expect(refused.retryInMs).toBeLessThanOrEqual(windowMs + holdMs + 1);

    let granted: { granted: number; used: number } | undefined;
    await waitFor(
      'the reserved units to leave the window',
      async () => {
        const reply = await w.reserve(1, 1, 10, windowMs);
        if (reply.granted > 0) granted = reply;
        return granted !== undefined;
      },
      10_000,
      10,
    );
    // Redis reserved at or after `start` and granted again at or before now, by its own clock.
    expect(Date.now() - start).toBeGreaterThanOrEqual(windowMs + holdMs);
    // All ten left together (one bucket), and only the new unit is counted.
    expect(granted).toEqual({ granted: 1, used: 1, retryInMs: expect.any(Number), epoch: refused.epoch });

    const keys = [`${prefix}:quota:requests`, `${prefix}:quota:requests:epoch`];
    await running().withClient(async (client) => {
      expect(await client.exists(...keys)).toBe(2);
      await waitFor('the idle window to expire from Redis', async () => (await client.exists(...keys)) === 0, 10_000, 20);
    });
  });

  it('keeps its epoch across calls and clients, and names a new one once its keys are gone (DEL, FLUSHDB)', async () => {
    const prefix = freshPrefix();
    const [a, b] = [windowOf(prefix), windowOf(prefix)] as const;
    const first = (await a.reserve(1, 1, 10, LONG_WINDOW_MS)).epoch;
    expect((await b.reserve(1, 1, 10, LONG_WINDOW_MS)).epoch).toBe(first);
    expect((await a.record(1, LONG_WINDOW_MS)).epoch).toBe(first);
    expect((await b.record(1, LONG_WINDOW_MS)).epoch).toBe(first);

    // The client that named the first epoch comes first after the loss too: it must still see a new one.
    await running().withClient((c) => c.del(`${prefix}:quota:requests`, `${prefix}:quota:requests:epoch`));
    const second = await a.reserve(1, 1, 10, LONG_WINDOW_MS);
    expect(second).toMatchObject({ granted: 1, used: 1 });
    expect(second.epoch).not.toBe(first);
    expect((await b.reserve(1, 1, 10, LONG_WINDOW_MS)).epoch).toBe(second.epoch);

    await running().withClient((c) => c.flushdb());
    const third = await a.record(1, LONG_WINDOW_MS);
    expect(third.epoch).not.toBe(second.epoch);
    expect(third.epoch).not.toBe(first);
  });

  it('fails fast while Redis is stopped, and works again (with a new epoch) once it is back on the same port', async () => {
    const server = running();
    const timeoutMs = 500;
    const w = windowOf(freshPrefix(), { timeoutMs });
    const before = await w.reserve(1, 1, 10, LONG_WINDOW_MS);
    await server.stop();
    try {
      // The first call after the loss, and one while the client is reconnecting.
      for (let call = 0; call < 2; call++) {
        const started = Date.now();
        const err = await rejectionOf(w.reserve(1, 1, 10, LONG_WINDOW_MS));
        const took = Date.now() - started;
        expect(err).toBeInstanceOf(QuotaStoreUnavailableError);
        // Bounded by the call's timeout (with room for a busy machine), not by ioredis's retries.
        expect(took).toBeLessThan(timeoutMs + 2500);
      }
    } finally {
      await server.start();
    }
    let after: { granted: number; epoch: string } | undefined;
    await waitFor(
      'the client to reach the restarted Redis',
      async () => {
        after = await w.reserve(1, 1, 10, LONG_WINDOW_MS).catch(() => undefined);
        return after !== undefined;
      },
      15_000,
      200,
    );
    expect(after?.granted).toBe(1);
    // The restarted Redis is empty: the window it names is not the one it lost.
    expect(after?.epoch).not.toBe(before.epoch);
  });

  it('never puts the password in an error when authentication fails', async () => {
    const server = running();
    const prefix = freshPrefix();
    const user = `tps-test-${randomUUID().slice(0, 8)}`;
    const password = `good-${randomUUID()}`;
    const wrong = `wrong-${randomUUID()}`;
    users.push(user);
    await server.withClient((c) => c.call('ACL', 'SETUSER', user, 'on', `>${password}`, `~${prefix}:*`, '+@all'));

    // The right password works: the failures below are authentication failures.
    expect(await windowOf(prefix, { username: user, password }).reserve(1, 1, 10, LONG_WINDOW_MS)).toMatchObject({ granted: 1 });

    const withUrl = server.url.replace('redis://', `redis://${user}:${wrong}@`);
    for (const w of [windowOf(prefix, { username: user, password: wrong, timeoutMs: 500 }), windowOf(prefix, { url: withUrl, timeoutMs: 500 })]) {
      const err = await rejectionOf(w.reserve(1, 1, 10, LONG_WINDOW_MS));
      expect(err).toBeInstanceOf(QuotaStoreUnavailableError);
      expect((err as Error).message).toMatch(/WRONGPASS|NOAUTH|auth/i);
      // Nowhere: not the message, not the cause, not any property a logger might print.
      const printed = `${String(err)} ${inspect(err, { depth: 10 })} ${JSON.stringify(err)}`;
      expect(printed).not.toContain(wrong);
      expect(printed).not.toContain(password);
    }
  });
});
