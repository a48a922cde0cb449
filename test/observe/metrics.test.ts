/** The connector's metrics before the first event: every labelled series a run knows of exists, at 0. */
import { describe, expect, it } from 'vitest';
import { BREAKER_ENDPOINTS, createMetrics, DEAD_LETTER_REASONS, RETRY_REASONS, type Metrics } from '../../connector/observe/metrics.js';

/** The series of one metric as `label=value,…` strings, with their values. */
async function seriesOf(metrics: Metrics, name: string): Promise<Map<string, number>> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const values = (metric?.values ?? []) as Array<{ labels: Record<string, string | number>; value: number }>;
  return new Map(
    values.map((v) => [
      Object.entries(v.labels)
        .map(([k, l]) => `${k}=${l}`)
        .join(','),
      v.value,
    ]),
  );
}

describe('metrics.initialise', () => {
  it('starts every series of the known label values at 0: topics, dead-letter reasons, retry reasons, endpoints, routes, bulk states and statuses', async () => {
    const metrics = createMetrics();
    expect((await seriesOf(metrics, 'tps_events_dead_lettered_total')).size).toBe(0);
    metrics.initialise({ topics: ['crm.customer.updated', 'loyalty.card.swiped'] });

    const topics = new Map([
      ['topic=crm.customer.updated', 0],
      ['topic=loyalty.card.swiped', 0],
    ]);
    expect(await seriesOf(metrics, 'tps_events_consumed_total')).toEqual(topics);
    expect(await seriesOf(metrics, 'tps_events_delivered_total')).toEqual(topics);
    expect(await seriesOf(metrics, 'tps_events_filtered_total')).toEqual(topics);
    const deadLettered = await seriesOf(metrics, 'tps_events_dead_lettered_total');
    expect(deadLettered.size).toBe(2 * DEAD_LETTER_REASONS.length);
    expect(deadLettered.get('topic=loyalty.card.swiped,reason=UNMAPPABLE_EVENT')).toBe(0);
    expect(deadLettered.get('topic=crm.customer.updated,reason=TARGET_REJECTED')).toBe(0);
    expect([...(await seriesOf(metrics, 'tps_retries_total')).keys()]).toEqual(RETRY_REASONS.map((r) => `reason=${r}`));
    expect(await seriesOf(metrics, 'tps_requests_total')).toEqual(
      new Map([
        ['method=GET,status=200', 0],
        ['method=POST,status=200', 0],
      ]),
    );
    const endpoints = new Map(BREAKER_ENDPOINTS.map((e) => [`endpoint=${e}`, 0]));
    expect(await seriesOf(metrics, 'tps_breaker_open')).toEqual(endpoints);
    expect(await seriesOf(metrics, 'tps_breaker_opened_total')).toEqual(endpoints);
    expect([...(await seriesOf(metrics, 'tps_updates_routed_total')).keys()]).toEqual(['route=single', 'route=bulk', 'route=realtime']);
    expect([...(await seriesOf(metrics, 'tps_bulk_batches_total')).keys()]).toEqual(['state=submitted', 'state=complete']);
    expect([...(await seriesOf(metrics, 'tps_bulk_rows_total')).keys()]).toEqual(['status=success', 'status=error', 'status=timeout']);
  });

  it('leaves counting to the events: a series counted after start-up goes on from 0', async () => {
    const metrics = createMetrics();
    metrics.initialise({ topics: ['a'] });
    metrics.eventsDeadLettered.inc({ topic: 'a', reason: 'DECODE_FAILED' });
    metrics.breakerOpen.set({ endpoint: 'target' }, 1);
    expect((await seriesOf(metrics, 'tps_events_dead_lettered_total')).get('topic=a,reason=DECODE_FAILED')).toBe(1);
    expect((await seriesOf(metrics, 'tps_breaker_open')).get('endpoint=target')).toBe(1);
  });
});
