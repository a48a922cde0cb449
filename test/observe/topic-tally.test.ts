import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../connector/observe/metrics.js';

/** The value of one series of a metric, as a scrape shows it. */
async function scraped(text: Promise<string>, series: string): Promise<number | undefined> {
  const line = (await text).split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

describe('per-topic event tallies', () => {
  it('show every counted event at the next scrape, once, whatever the number of scrapes', async () => {
    const metrics = createMetrics();
    for (let i = 0; i < 5; i++) metrics.consumedByTopic.add('crm');
    metrics.consumedByTopic.add('loyalty');
    for (let i = 0; i < 3; i++) metrics.deliveredByTopic.add('crm');
    expect(await scraped(metrics.registry.metrics(), 'tps_events_consumed_total{topic="crm"}')).toBe(5);
    expect(await scraped(metrics.registry.metrics(), 'tps_events_consumed_total{topic="loyalty"}')).toBe(1);
    expect(await scraped(metrics.registry.metrics(), 'tps_events_delivered_total{topic="crm"}')).toBe(3);
    metrics.consumedByTopic.add('crm');
    expect(await scraped(metrics.registry.metrics(), 'tps_events_consumed_total{topic="crm"}')).toBe(6);
  });
});
