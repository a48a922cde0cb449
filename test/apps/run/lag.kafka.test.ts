/**
 * tps_consumer_lag tells Kafka's truth: the real connector (a child process) against the real
 * broker, with Target failing every request. While fetching is paused the lag keeps growing with
 * what is produced; once Target heals and everything is committed, it reads 0.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  allCommitted,
  committedOffsets,
  createTestTopics,
  exitOf,
  produceEvents,
  sampleEvents,
  TestResources,
  waitFor,
  writeWorkspace,
  type Produced,
} from '../../support/delivery-harness.js';
import { runChild } from '../../support/child-run.js';
import { uniqueTopic } from '../../support/kafka.js';
import { scrape, serveMetrics, sumOf, type Sample } from '../../support/scrape.js';

const resources = new TestResources();
afterEach(() => resources.closeAll());

const PARTITIONS = 3;

/** Events produced and not committed by the group, over every partition. */
async function uncommitted(groupId: string, topics: string[], produced: readonly Produced[]): Promise<number> {
  const committed = await committedOffsets(groupId, topics);
  return produced.filter((p) => p.offset >= (committed.get(`${p.topic}|${p.partition}`) ?? 0)).length;
}

describe('tps_consumer_lag', () => {
  it("follows Kafka's committed offsets: grows with what is produced while Target is down and fetching paused, and reads 0 once everything is committed", async () => {
    const topics = await createTestTopics(uniqueTopic('lag'), PARTITIONS);
    const target = await resources.sandbox();
    target.setFaults({ failRate: 1 });
    const groupId = `${topics.prefix}.g`;
    const config = writeWorkspace({ topics, targetUrl: target.url, groupId, delivery: { max_attempts: 3, max_backoff_ms: 1000 } });
    const port = await serveMetrics(config);
    const { child } = runChild(resources, config);
    let samples: Sample[] = [];
    const scraped = async (check: (s: Sample[]) => boolean) => check((samples = await scrape(port)));
    await waitFor('the connector consuming', () => scraped((s) => sumOf(s, 'tps_ready') === 1), 60_000, 200);

    const produced = await produceEvents(topics, sampleEvents(300, 100, 5), PARTITIONS);
    await waitFor(
      "Target's breaker open: delivery and fetching paused",
      () => scraped((s) => sumOf(s, 'tps_breaker_open', { endpoint: 'target' }) === 1),
      60_000,
      200,
    );
    // Produced while nothing is fetched: the fetch loop never sees these.
    produced.push(...(await produceEvents(topics, sampleEvents(300, 100, 6), PARTITIONS)));
    const behind = await uncommitted(groupId, topics.all, produced);
    // Events that need no request (filtered) settle and are committed even while Target is down.
    expect(behind).toBeGreaterThan(300);
    await waitFor(`the lag summed over partitions at ${behind}`, () => scraped((s) => sumOf(s, 'tps_consumer_lag') === behind), 30_000, 200);
    // One series per partition this member owns: all of them, the only member.
    const lagSeries = samples.filter((s) => s.name === 'tps_consumer_lag');
    expect(lagSeries).toHaveLength(topics.all.length * PARTITIONS);

    target.setFaults({ failRate: 0 });
    await waitFor('every partition committed', () => allCommitted(groupId, produced), 120_000, 250);
    await waitFor(
      'the lag at 0 on every partition',
      () => scraped((s) => s.some((x) => x.name === 'tps_consumer_lag') && sumOf(s, 'tps_consumer_lag') === 0),
      30_000,
      200,
    );
    expect(samples.filter((s) => s.name === 'tps_consumer_lag')).toHaveLength(lagSeries.length);

    child.kill('SIGTERM');
    expect((await exitOf(child)).code).toBe(0);
  }, 240_000);
});
