/**
 * An outage of Target is waited out, never dead-lettered: the real connector (a child process)
 * against the real broker, with Target answering 503 and then refusing connections for a minute
 * in the middle of the stream.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  allCommitted,
  committedOffsets,
  createTestTopics,
  deliveriesPerEvent,
  exitOf,
  expectedProfiles,
  produceEvents,
  profilesOf,
  sampleEvents,
  TestResources,
  uncoveredBelowCommit,
  waitFor,
  writeWorkspace,
} from '../../support/delivery-harness.js';
import { deadLetterCount, rssMb, runChild } from '../../support/child-run.js';
import { uniqueTopic } from '../../support/kafka.js';
import { TcpProxy } from '../../support/tcp-proxy.js';

const resources = new TestResources();
afterEach(() => resources.closeAll());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a Target outage', () => {
  it('is waited out: a minute of 503s and refused connections mid-stream loses nothing and dead-letters nothing', async () => {
    const topics = await createTestTopics(uniqueTopic('outage'), 4);
    const events = sampleEvents(20_000, 4000, 61);
    const produced = await produceEvents(topics, events, 4);
    const target = await resources.sandbox({ latencyMs: 2 });
    const proxy = new TcpProxy(target.port);
    await proxy.open();
    resources.add(() => proxy.close());
    const groupId = `${topics.prefix}.g`;
    // The defaults a new user has: max_attempts 12, backoff up to 60 s capped here to keep the test short.
    const config = writeWorkspace({ topics, targetUrl: proxy.url, groupId, delivery: { max_attempts: 3, max_backoff_ms: 2000 } });
    const { child, lines } = runChild(resources, config);

    await waitFor('a quarter of the stream delivered', () => target.stats().updates >= 1500, 60_000, 20);
    const outageStarts = Date.now();
    target.setFaults({ failRate: 1 });
    const rss: number[] = [];
    let checks = 0;
    const watch = async (until: number) => {
      while (Date.now() < until) {
        rss.push(rssMb(child.pid as number));
        const committed = await committedOffsets(groupId, topics.all);
        const seen = new Set(deliveriesPerEvent(target.updates()).keys());
        expect(uncoveredBelowCommit(produced, committed, seen)).toEqual([]);
        checks++;
        await sleep(1000);
      }
    };
    await watch(outageStarts + 30_000);
    await proxy.close();
    target.setFaults({ failRate: 0 });
    await watch(outageStarts + 60_000);
    await proxy.open();

    await waitFor('every partition committed', () => allCommitted(groupId, produced), 120_000, 250);
    child.kill('SIGTERM');
    expect((await exitOf(child)).code).toBe(0);

    const expected = expectedProfiles(events);
    expect(profilesOf(target, expected.keys())).toEqual(expected);
    expect(await deadLetterCount(topics.deadLetter)).toBe(0);
    expect(checks).toBeGreaterThan(30);
    const log = lines();
    expect(log.filter((l) => String(l.msg).includes('is failing for every request'))).toHaveLength(1);
    expect(log.filter((l) => String(l.msg).includes('answers again'))).toHaveLength(1);
    expect(log.filter((l) => String(l.msg).includes('events go to the dead-letter topic'))).toHaveLength(0);
    // Memory stays flat while the outage lasts: fetching paused at max_pending.
    const early = Math.max(...rss.slice(5, 15));
    const late = Math.max(...rss.slice(-15));
    console.info(`outage: RSS ${Math.round(early)} MB after 10 s, ${Math.round(late)} MB at the end (max ${Math.round(Math.max(...rss))} MB)`);
    expect(late - early).toBeLessThan(64);
  }, 240_000);
});
