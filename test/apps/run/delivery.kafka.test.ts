import { afterEach, describe, expect, it } from 'vitest';
import { SAMPLE_TOPICS, type SampleEvent } from '../../../connector/tools/sample-events.js';
import { DLQ_HEADERS } from '../../../connector/adapters/kafka/headers.js';
import { RunStats } from '../../../connector/observe/run-stats.js';
import type { RunningSink } from '../../../connector/apps/common/kafka-sink.js';
import type { SandboxOptions } from '../../../connector/tools/sandbox/options.js';
import {
  allCommitted,
  createTestTopics,
  expectedProfiles,
  produceEvents,
  profilesOf,
  sampleEvents,
  sampleSchemas,
  startTestSink,
  TestResources,
  waitFor,
  writeWorkspace,
} from '../../support/delivery-harness.js';
import { testKafka, uniqueTopic } from '../../support/kafka.js';
import { framed, startFakeRegistry } from '../../support/fake-registry.js';

const resources = new TestResources();
afterEach(() => resources.closeAll());
const sandbox = (options?: SandboxOptions) => resources.sandbox(options);

async function sink(configPath: string, stats = new RunStats()): Promise<RunningSink> {
  const running = await startTestSink(configPath, stats);
  resources.add(() => running.stop());
  return running;
}

describe('delivery through the real broker and the sandbox', () => {
  it('delivers 10,000 events over three 6-partition topics to exactly the expected profiles', async () => {
    const topics = await createTestTopics(uniqueTopic('full'), 6);
    const events = sampleEvents(10_000, 800);
    const produced = await produceEvents(topics, events, 6);
    const target = await sandbox({ recordUpdates: false });
    const groupId = `${topics.prefix}.g`;
    const stats = new RunStats();
    const started = performance.now();
    await sink(writeWorkspace({ topics, targetUrl: target.url, groupId, delivery: { concurrency: 32, max_pending: Number(process.env.MP ?? 2000) } }), stats);
    await waitFor('every partition committed', () => allCommitted(groupId, produced), 90_000, 250);
    const seconds = (performance.now() - started) / 1000;

    const expected = expectedProfiles(events);
    expect(profilesOf(target, expected.keys())).toEqual(expected);
    const s = stats.summary();
    expect(s.delivered + s.filtered).toBe(10_000);
    expect(s.deadLettered).toBe(0);
    console.info(`10,000 events in ${seconds.toFixed(2)} s (${Math.round(10_000 / seconds)} events/s, ${s.requests} requests, ${s.coalesced} coalesced)`);
  }, 120_000);

  it('sends each profile its updates in offset order, one request at a time, at concurrency 64', async () => {
    const topics = await createTestTopics(uniqueTopic('order'), 3);
    // 40 customers, 50 swipes each; pointsBalance is the event's sequence number.
    const base = sampleEvents(2000, 40, 11).map((e) => ({ ...e, topic: SAMPLE_TOPICS.loyalty })) as SampleEvent[];
    const loyalty = sampleEvents(2000, 40, 12).filter((e) => e.topic === SAMPLE_TOPICS.loyalty);
    const events = base.map((e, i) => {
      const template = loyalty[i % loyalty.length] as SampleEvent;
      const value = { ...template.value, card: { ...(template.value.card as object), customerId: e.key }, pointsBalance: i };
      return { topic: SAMPLE_TOPICS.loyalty, key: e.key, value } as SampleEvent;
    });
    const produced = await produceEvents(topics, events, 3);
    const target = await sandbox({ latencyMs: 5 });
    const groupId = `${topics.prefix}.g`;
    await sink(writeWorkspace({ topics, targetUrl: target.url, groupId, delivery: { concurrency: 64 } }));
    await waitFor('every partition committed', () => allCommitted(groupId, produced), 60_000, 250);

    const seen = new Map<string, number[]>();
    for (const u of target.updates()) {
      seen.set(u.identity.value, [...(seen.get(u.identity.value) ?? []), Number(u.attributes.pointsBalance)]);
    }
    expect(seen.size).toBe(40);
    for (const [key, sequence] of seen) {
      expect(sequence, key).toEqual([...sequence].sort((a, b) => a - b));
      const last = Math.max(...events.map((e, i) => (e.key === key ? i : -1)));
      expect(sequence.at(-1), key).toBe(last);
    }
    expect(target.stats().maxConcurrentPerProfile).toBe(1);
  }, 90_000);

  it('dead-letters poison events with their reason and moves on, counts adding up exactly', async () => {
    const topics = await createTestTopics(uniqueTopic('poison'), 1);
    const types = await sampleSchemas();
    const good = sampleEvents(300, 50, 5).filter((e) => e.topic === SAMPLE_TOPICS.crm);
    const crm = types.get(SAMPLE_TOPICS.crm)!;
    const template = good[0]!.value as { customer: Record<string, unknown> };
    const withId = (id: string) => crm.toBuffer({ ...template, eventType: 'UPDATED', customer: { ...template.customer, id } });
    const poison = [
      { topic: topics.byKind[SAMPLE_TOPICS.crm], key: 'bad-bytes', value: Buffer.from([0xff, 0x01, 0x02]) },
      { topic: topics.byKind[SAMPLE_TOPICS.crm], key: 'empty-id', value: withId('') },
      { topic: topics.byKind[SAMPLE_TOPICS.crm], key: 'slash-id', value: withId('C-1/2') },
    ];
    const before = await produceEvents(topics, good.slice(0, 20), 1);
    const mid = await produceEvents(topics, [], 1, poison);
    const after = await produceEvents(topics, good.slice(20), 1);
    void mid;
    const target = await sandbox();
    const groupId = `${topics.prefix}.g`;
    const stats = new RunStats();
    await sink(writeWorkspace({ topics, targetUrl: target.url, groupId }), stats);
    await waitFor('every partition committed', () => allCommitted(groupId, [...before, ...after]), 60_000, 250);

    const s = stats.summary();
    expect(s.deadLettered).toBe(3);
    expect(s.delivered + s.filtered + s.deadLettered).toBe(good.length + 3);
    expect(profilesOf(target, expectedProfiles(good).keys())).toEqual(expectedProfiles(good));

    const consumer = testKafka('dlq-reader').consumer({ groupId: `${groupId}.dlq-reader` });
    await consumer.connect();
    await consumer.subscribe({ topics: [topics.deadLetter], fromBeginning: true });
    const letters: Array<{ key: string; headers: Record<string, string> }> = [];
    void consumer.run({
      eachMessage: async ({ message }) => {
        letters.push({
          key: String(message.key),
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        });
      },
    });
    await waitFor('three dead letters', () => letters.length >= 3, 30_000);
    await consumer.disconnect();
    const byKey = Object.fromEntries(letters.map((l) => [l.key, l.headers]));
    expect(byKey['bad-bytes']?.[DLQ_HEADERS.errorCode]).toBe('DECODE_FAILED');
    expect(byKey['empty-id']?.[DLQ_HEADERS.errorCode]).toBe('UNMAPPABLE_EVENT');
    expect(byKey['slash-id']?.[DLQ_HEADERS.errorCode]).toBe('UNMAPPABLE_EVENT');
    expect(byKey['slash-id']?.[DLQ_HEADERS.errorMessage]).toMatch(/\//);
    for (const h of Object.values(byKey)) {
      expect(h[DLQ_HEADERS.sourceTopic]).toBe(topics.byKind[SAMPLE_TOPICS.crm]);
      expect(h[DLQ_HEADERS.sourcePartition]).toBe('0');
      expect(Number(h[DLQ_HEADERS.sourceOffset])).toBeGreaterThanOrEqual(20);
      expect(h[DLQ_HEADERS.attempts]).toBe('0');
    }
  }, 90_000);

  it('stays within a quota of 200 per window, pauses, and finishes when budget returns', async () => {
    const topics = await createTestTopics(uniqueTopic('quota'), 2);
    // every event its own profile, so nothing coalesces and each event costs one request
    const events = sampleEvents(1500, 100_000, 21).filter((e) => e.topic === SAMPLE_TOPICS.loyalty);
    const produced = await produceEvents(topics, events, 2);
    const windowMs = 1500;
    const target = await sandbox({ quota: 200, quotaWindowMs: windowMs });
    const groupId = `${topics.prefix}.g`;
    const running = await sink(
      writeWorkspace({ topics, targetUrl: target.url, groupId, delivery: { daily_quota: 200, quota_window_ms: windowMs, concurrency: 32 } }),
    );
    await waitFor('the quota to run out', () => running.engine.lanes.blocked, 20_000, 20);
    await waitFor('every partition committed', () => allCommitted(groupId, produced), 60_000, 250);

    expect(target.stats().byStatus['429'] ?? 0).toBe(0);
    const arrivals = target.updates().map((u) => Date.parse(u.receivedAt));
    // more demand than two windows of budget: the run had to wait for the quota at least twice
    expect(arrivals.length).toBeGreaterThan(400);
    for (const t of arrivals) expect(arrivals.filter((u) => u > t - windowMs && u <= t).length).toBeLessThanOrEqual(200);
    expect(profilesOf(target, expectedProfiles(events).keys())).toEqual(expectedProfiles(events));
  }, 90_000);

  it('waits out a schema registry outage without skipping or dead-lettering an event', async () => {
    const topics = await createTestTopics(uniqueTopic('registry'), 2);
    const events = sampleEvents(900, 200, 71).filter((e) => e.topic === SAMPLE_TOPICS.crm);
    const registry = await startFakeRegistry();
    resources.add(() => registry.close());
    const crmSchema = (await sampleSchemas()).get(SAMPLE_TOPICS.crm)!;
    registry.register(`${topics.byKind[SAMPLE_TOPICS.crm]}-value`, 7, JSON.parse(JSON.stringify(crmSchema.schema())));
    const produced = await produceEvents(topics, events, 2, [], (avro) => framed(7, avro));
    // long enough to outlast the registry client's own retries, so the source has to wait too
    registry.failNext(10, 503);
    const target = await sandbox();
    const groupId = `${topics.prefix}.g`;
    const stats = new RunStats();
    await sink(writeWorkspace({ topics, targetUrl: target.url, groupId, schemaRegistryUrl: registry.url }), stats);
    await waitFor('every partition committed', () => allCommitted(groupId, produced), 90_000, 250);

    expect(registry.hits.get('/schemas/ids/7')).toBeGreaterThan(10);
    expect(stats.summary().deadLettered).toBe(0);
    expect(stats.summary().delivered + stats.summary().filtered).toBe(events.length);
    expect(profilesOf(target, expectedProfiles(events).keys())).toEqual(expectedProfiles(events));
  }, 120_000);

  it('ends the run when the schema registry stays down past the outage budget, dead-lettering and committing nothing', async () => {
    const topics = await createTestTopics(uniqueTopic('registry-budget'), 1);
    const events = sampleEvents(200, 50, 72).filter((e) => e.topic === SAMPLE_TOPICS.crm);
    const registry = await startFakeRegistry();
    resources.add(() => registry.close());
    const produced = await produceEvents(topics, events, 1, [], (avro) => framed(7, avro));
    registry.failNext(1_000_000, 503);
    const target = await sandbox();
    const groupId = `${topics.prefix}.g`;
    const stats = new RunStats();
    const running = await sink(
      writeWorkspace({ topics, targetUrl: target.url, groupId, schemaRegistryUrl: registry.url, delivery: { outage_budget_ms: 1500 } }),
      stats,
    );
    const fatal: Error[] = [];
    running.onFatal((e) => fatal.push(e));
    await waitFor('the outage budget to run out', () => fatal.length > 0, 30_000, 50);
    expect(fatal[0]).toMatchObject({ code: 'OUTAGE_BUDGET_EXHAUSTED' });
    expect(fatal[0]?.message).toContain('schema registry');
    expect(stats.summary().deadLettered).toBe(0);
    expect(await allCommitted(groupId, produced)).toBe(false);
    expect(target.stats().requests).toBe(0);
  }, 60_000);
});
