import { once } from 'node:events';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startObserveServer, type ObserveServer } from '../../connector/observe/http.js';
import { createMetrics } from '../../connector/observe/metrics.js';

const servers: ObserveServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(isReady: () => boolean) {
  const metrics = createMetrics();
  const server = await startObserveServer({ host: '127.0.0.1', port: 0, metrics, isReady });
  servers.push(server);
  const get = (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);
  return { metrics, server, get };
}

describe('observe server', () => {
  it('serves every connector metric with its labels, and the process metrics', async () => {
    const { metrics, get } = await start(() => true);
    metrics.eventsConsumed.inc({ topic: 'crm.customer.updated' }, 3);
    metrics.eventsDelivered.inc({ topic: 'crm.customer.updated' }, 2);
    metrics.eventsFiltered.inc({ topic: 'crm.customer.updated' });
    metrics.eventsDeadLettered.inc({ topic: 'crm.customer.updated', reason: 'DECODE_FAILED' });
    metrics.updatesCoalesced.inc(4);
    metrics.retries.inc({ reason: '503' });
    metrics.requests.inc({ method: 'GET', status: '200' });
    metrics.requestDuration.observe(0.042);
    metrics.requestsInFlight.set(5);
    metrics.eventsPending.set(17);
    metrics.quotaRemaining.set(999_000);
    metrics.consumerLag.set({ topic: 'crm.customer.updated', partition: '0' }, 12);

    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const body = await res.text();
    for (const line of [
      'tps_events_consumed_total{topic="crm.customer.updated"} 3',
      'tps_events_delivered_total{topic="crm.customer.updated"} 2',
      'tps_events_filtered_total{topic="crm.customer.updated"} 1',
      'tps_events_dead_lettered_total{topic="crm.customer.updated",reason="DECODE_FAILED"} 1',
      'tps_updates_coalesced_total 4',
      'tps_retries_total{reason="503"} 1',
      'tps_requests_total{method="GET",status="200"} 1',
      'tps_request_duration_seconds_bucket{le="0.05"} 1',
      'tps_request_duration_seconds_count 1',
      'tps_requests_in_flight 5',
      'tps_events_pending 17',
      'tps_quota_remaining 999000',
      'tps_consumer_lag{topic="crm.customer.updated",partition="0"} 12',
    ]) {
      expect(body).toContain(`${line}\n`);
    }
    expect(body).toMatch(/^process_cpu_user_seconds_total \d/m);
  });

  it('reads the quota gauges from the budget at every scrape', async () => {
    const { metrics, get } = await start(() => true);
    let quota = { remaining: 700, limit: 1000 };
    metrics.readLiveFrom({ pending: () => 0, ready: () => true, quota: () => quota });
    metrics.quotaFleetUsed.set(2500);
    metrics.quotaStoreFallback.set(1);
    let body = await (await get('/metrics')).text();
    expect(body).toContain('tps_quota_remaining 700\n');
    expect(body).toContain('tps_quota_limit 1000\n');
    expect(body).toContain('tps_quota_fleet_used 2500\n');
    expect(body).toContain('tps_quota_store_fallback 1\n');
    quota = { remaining: 650, limit: 333 };
    body = await (await get('/metrics')).text();
    expect(body).toContain('tps_quota_remaining 650\n');
    expect(body).toContain('tps_quota_limit 333\n');
  });

  it('keeps registries apart so two connectors in one process do not collide', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.updatesCoalesced.inc(7);
    expect(await b.registry.getSingleMetricAsString('tps_updates_coalesced_total')).toContain('tps_updates_coalesced_total 0');
  });

  it('answers /healthz always and /readyz only while isReady() holds', async () => {
    let ready = false;
    const { get } = await start(() => ready);
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(503);
    ready = true;
    expect((await get('/readyz')).status).toBe(200);
    ready = false;
    expect((await get('/readyz')).status).toBe(503);
    expect((await get('/healthz')).status).toBe(200);
  });

  it('refuses unknown paths and other methods', async () => {
    const { get, server } = await start(() => true);
    expect((await get('/nope')).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('closes promptly despite a stalled scrape and frees its port', async () => {
    const { server } = await start(() => true);
    const socket = connect(server.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /metrics HTTP/1.1\r\nhost: x\r\n'); // headers never finished
    // Waiting for the scrape would wait forever: the bound only turns that hang into a message.
    const closed = server.close().then(() => 'closed');
    const timeout = new Promise((resolve) => setTimeout(resolve, 10_000, 'still waiting for the stalled scrape after 10 s'));
    expect(await Promise.race([closed, timeout])).toBe('closed');
    servers.splice(servers.indexOf(server), 1);
    socket.destroy();
    await expect(fetch(`http://127.0.0.1:${server.port}/healthz`)).rejects.toThrow();
  });

  it('rejects when the port is taken', async () => {
    const { server } = await start(() => true);
    await expect(startObserveServer({ host: '127.0.0.1', port: server.port, metrics: createMetrics(), isReady: () => true })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });
});
