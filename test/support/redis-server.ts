/**
 * A real redis-server for one test file, through scripts/redis.sh: started in a folder of the
 * file's own (so that stopping it stops nobody else's), stopped and started again on the same
 * port for outage tests, and its keys removed by prefix after each test.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { ROOT } from './delivery-harness.js';
import { testTempDir } from './test-run.js';

const run = promisify(execFile);

/** One redis-server on 127.0.0.1, and the means to take it away and bring it back. */
export interface TestRedis {
  /** redis://127.0.0.1:PORT */
  readonly url: string;
  readonly port: number;
  /** Stops the server (its data goes with it: the script runs Redis without persistence). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
  /** Runs `use` with a fresh client, closed after. */
  withClient<T>(use: (redis: Redis) => Promise<T>): Promise<T>;
  /** Deletes every key under `prefix:`. */
  deleteKeys(prefix: string): Promise<void>;
}

/** Starts a redis-server with scripts/redis.sh in a temporary folder of this file (call `stop` in afterAll). */
export async function startTestRedis(): Promise<TestRedis> {
  const home = await testTempDir('redis');
  const script = (command: 'start' | 'stop', port?: number) =>
    run('bash', [join(ROOT, 'scripts/redis.sh'), command], {
      cwd: ROOT,
      env: { ...process.env, REDIS_HOME_DIR: home, ...(port !== undefined && { REDIS_PORT: String(port) }) },
    });
  const { stdout } = await script('start');
  const url = stdout.trim();
  const port = Number(new URL(url).port);
  const withClient = async <T>(use: (redis: Redis) => Promise<T>): Promise<T> => {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      return await use(redis);
    } finally {
      redis.disconnect();
    }
  };
  return {
    url,
    port,
    stop: async () => void (await script('stop', port)),
    start: async () => void (await script('start', port)),
    withClient,
    deleteKeys: (prefix) =>
      withClient(async (redis) => {
        const keys = await redis.keys(`${prefix}:*`);
        if (keys.length > 0) await redis.del(...keys);
      }),
  };
}
