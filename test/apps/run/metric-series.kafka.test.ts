/**
 * A fresh `run` (a child process on the real broker, nothing produced yet) has a series for every
 * metric the dashboard reads, labelled counters and gauges at 0, so that no panel says "No data".
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BREAKER_ENDPOINTS, DEAD_LETTER_REASONS } from '../../../connector/observe/metrics.js';
import { createTestTopics, exitOf, TestResources, waitFor, writeWorkspace } from '../../support/delivery-harness.js';
import { runChild } from '../../support/child-run.js';
import { uniqueTopic } from '../../support/kafka.js';
import { scrape, serveMetrics, type Sample } from '../../support/scrape.js';
import { loadDashboard, panelQueries, variableQueries } from '../../deploy/ops-kit.js';
import { metricNamesIn } from '../../deploy/promql.js';

const resources = new TestResources();
afterEach(() => resources.closeAll());

/** Label values no one knows before the first event: which attribute a value over 256 characters comes in. */
const LABELLED_BY_EVENTS = new Set(['tps_values_truncated_total']);

describe('a fresh run', () => {
  it('exports a series for every metric the dashboard queries, and 0 for every dead-letter reason and breaker, before any event', async () => {
    const topics = await createTestTopics(uniqueTopic('series'), 2);
    const target = await resources.sandbox();
    const config = writeWorkspace({ topics, targetUrl: target.url, groupId: `${topics.prefix}.g` });
    const port = await serveMetrics(config);
    const { child } = runChild(resources, config);
    let samples: Sample[] = [];
    const has = (name: string) => samples.some((s) => s.name === name);
    // Ready, and the first lag read from Kafka done: the one series that waits for the assignment.
    await waitFor(
      'the connector consuming, its lag read',
      async () => {
        samples = await scrape(port);
        return samples.some((s) => s.name === 'tps_ready' && s.value === 1) && has('tps_consumer_lag');
      },
      60_000,
      200,
    );

    const dashboard = loadDashboard();
    const queried = new Set([...panelQueries(dashboard), ...variableQueries(dashboard)].flatMap(({ expr }) => metricNamesIn(expr)));
    expect(queried.size).toBeGreaterThan(20);
    const missing = [...queried].filter((name) => !LABELLED_BY_EVENTS.has(name) && !has(name));
    expect(missing, 'metrics the dashboard queries without a series on a fresh run').toEqual([]);

    const series = (name: string) => samples.filter((s) => s.name === name);
    expect(series('tps_events_dead_lettered_total')).toHaveLength(topics.all.length * DEAD_LETTER_REASONS.length);
    expect(series('tps_events_dead_lettered_total').every((s) => s.value === 0)).toBe(true);
    expect(new Set(series('tps_events_dead_lettered_total').map((s) => s.labels.topic))).toEqual(new Set(topics.all));
    expect(series('tps_breaker_open').map((s) => [s.labels.endpoint, s.value])).toEqual(BREAKER_ENDPOINTS.map((e) => [e, 0]));
    expect(series('tps_consumer_lag').map((s) => s.value)).toEqual(new Array(topics.all.length * 2).fill(0));

    child.kill('SIGTERM');
    expect((await exitOf(child)).code).toBe(0);
  }, 120_000);
});
