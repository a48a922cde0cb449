import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeQuotaStore } from '../../../connector/apps/check/quota-store-probe.js';
import { parseConfig } from '../../../connector/adapters/config/load.js';
import { startTestRedis, type TestRedis } from '../../support/redis-server.js';

/** A port nothing listens on (taken and released at once). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const deliveryWith = (store: string) =>
  parseConfig(
    `kafka: { brokers: ["127.0.0.1:9092"], group_id: g }\ntarget: { client_code: acme }\nmapping_file: m.yaml\ndelivery: { dead_letter_topic: d, quota_store: ${store} }\n`,
    'config.yaml',
    { REDIS_PASSWORD: 's3cret-pw' },
  ).delivery;

let redis: TestRedis;

beforeAll(async () => {
  redis = await startTestRedis();
});

afterAll(async () => {
  await redis?.stop();
});

describe('the quota store probe of check', () => {
  it('has nothing to reach with the local store', async () => {
    expect(await probeQuotaStore(deliveryWith('{ kind: local }'), 2000)).toEqual({
      probe: 'quota store',
      status: 'skipped',
      detail: 'local: each replica keeps its share, nothing to reach',
    });
  });

  it('passes when Redis runs the quota script', async () => {
    try {
      const result = await probeQuotaStore(deliveryWith(`{ kind: redis, url: "${redis.url}", key_prefix: tps-test-probe }`), 2000);
      expect(result).toEqual({
        probe: 'quota store',
        status: 'passed',
        detail: `Redis at ${redis.url} runs the quota script (key prefix tps-test-probe)`,
      });
    } finally {
      await redis.deleteKeys('tps-test-probe');
    }
  });

  it('fails naming the Redis it could not reach, and never its password', async () => {
    const dead = await freePort();
    const result = await probeQuotaStore(deliveryWith(`{ kind: redis, url: "redis://127.0.0.1:${dead}", password: "\${REDIS_PASSWORD}" }`), 1000);
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(new RegExp(`^Redis at redis://127.0.0.1:${dead} did not answer the quota script: `));
    expect(result.detail).not.toContain('s3cret-pw');
  });
});
