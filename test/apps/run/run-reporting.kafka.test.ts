/** What `run` tells its operator: the exit code of a backfill with dead letters, and the pending gauge at every scrape. */
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../connector/adapters/config/load.js';
import { createLogger } from '../../../connector/observe/logger.js';
import { createMetrics } from '../../../connector/observe/metrics.js';
import { pipelineObservers } from '../../../connector/observe/pipeline-observers.js';
import { RunStats } from '../../../connector/observe/run-stats.js';
import { startSink } from '../../../connector/apps/common/kafka-sink.js';
import { RUN_EXIT } from '../../../connector/apps/run/run.js';
import { runChild } from '../../support/child-run.js';
import {
  allCommitted,
  createTestTopics,
  exitOf,
  produceEvents,
  sampleEvents,
  TestResources,
  testMapping,
  waitFor,
  writeWorkspace,
} from '../../support/delivery-harness.js';
import { uniqueTopic } from '../../support/kafka.js';

const resources = new TestResources();
afterEach(() => resources.closeAll());

/** The value the pending gauge shows when scraped now. */
async function scrapePending(metrics: ReturnType<typeof createMetrics>): Promise<number> {
  const text = await metrics.registry.getSingleMetricAsString('tps_events_pending');
  const match = /^tps_events_pending (\d+)$/m.exec(text);
  if (!match) throw new Error(`no tps_events_pending sample in:\n${text}`);
  return Number(match[1]);
}

describe('run reports', () => {
  it('run --exit-when-idle exits non-zero and says how many events went to the dead-letter topic', async () => {
    const topics = await createTestTopics(uniqueTopic('exit'), 2);
    const good = sampleEvents(300, 50, 81);
    const crm = topics.byKind['crm.customer.updated'];
    await produceEvents(topics, good, 2, [
      { topic: crm, key: 'bad-1', value: Buffer.from('not avro at all') },
      { topic: crm, key: 'bad-2', value: Buffer.from('{"json": true}') },
    ]);
    const target = await resources.sandbox();
    const config = writeWorkspace({ topics, targetUrl: target.url, groupId: `${topics.prefix}.g` });
    const { child, lines } = runChild(resources, config, ['--exit-when-idle']);
    expect((await exitOf(child)).code).toBe(RUN_EXIT.deadLettered);
    const report = lines().find((l) => l.deadLettered !== undefined && String(l.msg).includes('went to the dead-letter topic'));
    expect(report).toMatchObject({ deadLettered: 2, deadLetterTopic: topics.deadLetter });
    expect(String(report?.msg)).toContain(`2 event(s) went to the dead-letter topic ${topics.deadLetter}`);
  }, 90_000);

  it('tps_events_pending is what was fetched and not committed at every scrape: above 0 while Target is down, 0 after the final commit', async () => {
    const topics = await createTestTopics(uniqueTopic('pending'), 2);
    const events = sampleEvents(600, 100, 82);
    const produced = await produceEvents(topics, events, 2);
    const target = await resources.sandbox({ failRate: 1 });
    const groupId = `${topics.prefix}.g`;
    const config = await loadConfig(writeWorkspace({ topics, targetUrl: target.url, groupId, delivery: { max_backoff_ms: 200 } }));
    const metrics = createMetrics();
    const running = await startSink(config, createLogger({ level: 'silent' }), pipelineObservers(metrics, new RunStats()));
    resources.add(() => running.stop());
    metrics.readLiveFrom({ pending: () => running.pipeline.pending, ready: () => running.source.ready });

    await waitFor('events fetched and waiting for Target', () => running.pipeline.pending > 0, 30_000, 20);
    const whileDown = await scrapePending(metrics);
    expect(whileDown).toBeGreaterThan(0);
    expect(whileDown).toBe(running.pipeline.pending);

    target.setFaults({ failRate: 0 });
    await waitFor('every partition committed', () => allCommitted(groupId, produced), 60_000, 100);
    await waitFor('the tracker to release the committed events', () => running.pipeline.pending === 0, 10_000, 20);
    expect(await scrapePending(metrics)).toBe(0);
  }, 90_000);

  it("after a hard kill, the restart says it waits for the dead member's session to time out, and for how long", async () => {
    const topics = await createTestTopics(uniqueTopic('rejoin'), 2);
    await produceEvents(topics, sampleEvents(2000, 200, 83), 2);
    const target = await resources.sandbox({ latencyMs: 5 });
    const config = writeWorkspace({ topics, targetUrl: target.url, groupId: `${topics.prefix}.g` });
    const first = runChild(resources, config);
    await waitFor('the first run to deliver', () => target.stats().updates > 50, 30_000, 20);
    first.child.kill('SIGKILL');
    await exitOf(first.child);
    const second = runChild(resources, config);
    await waitFor('the restart to explain its wait', () => second.lines().some((l) => String(l.msg).includes('still lists')), 9000, 100);
    const line = second.lines().find((l) => String(l.msg).includes('still lists'));
    // writeWorkspace sets kafka.session_timeout_ms to 10 s
    expect(line).toMatchObject({ earlierMembers: 1, waitUpToSeconds: 10 });
    await waitFor('the restart to join', () => second.lines().some((l) => l.msg === 'joined consumer group'), 20_000, 100);
  }, 90_000);

  it('logs a truncated attribute once and counts every truncation in tps_values_truncated_total', async () => {
    const topics = await createTestTopics(uniqueTopic('truncate'), 1);
    const events = sampleEvents(300, 40, 84);
    const produced = await produceEvents(topics, events, 1);
    const target = await resources.sandbox();
    const groupId = `${topics.prefix}.g`;
    const mapping = testMapping(topics) as { mappings: Array<{ attributes: Record<string, unknown> }> };
    mapping.mappings[1]!.attributes.note = { value: 'n'.repeat(300) };
    const config = await loadConfig(writeWorkspace({ topics, targetUrl: target.url, groupId, mapping }));
    const logged: string[] = [];
    const logger = createLogger({
      level: 'warn',
      pretty: false,
      destination: new Writable({ write: (chunk, _e, done) => (logged.push(String(chunk)), done()) }),
    });
    const metrics = createMetrics();
    const observers = pipelineObservers(metrics, new RunStats(), logger);
    const running = await startSink(config, logger, observers);
    resources.add(() => running.stop());
    await waitFor('every partition committed', () => allCommitted(groupId, produced), 60_000, 100);

    const swipes = events.filter((e) => e.topic === 'loyalty.card.swiped').length;
    expect(swipes).toBeGreaterThan(10);
    const text = await metrics.registry.getSingleMetricAsString('tps_values_truncated_total');
    expect(text).toContain(`tps_values_truncated_total{attribute="profile.note"} ${swipes}`);
    expect(logged.filter((l) => l.includes('values of profile.note are truncated'))).toHaveLength(1);
    expect(observers.truncations.summary()).toEqual({ 'profile.note': swipes });
    const stored = target.profile('mbox3rdPartyId', events.find((e) => e.topic === 'loyalty.card.swiped')!.key);
    expect(stored?.note).toHaveLength(256);
  }, 90_000);
});
