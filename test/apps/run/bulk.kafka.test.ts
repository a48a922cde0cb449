/**
 * The bulk route end to end: the real broker, the connector, and the sandbox's Bulk Profile
 * Update API (with its processing delay, per-row errors and the override rule).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { runBackfill, type BackfillSummary } from '../../../connector/apps/backfill/backfill.js';
import { PROBE_IDENTITY } from '../../../connector/apps/common/target-probe.js';
import { DLQ_HEADERS } from '../../../connector/adapters/kafka/headers.js';
import { runChild, deadLetterCount } from '../../support/child-run.js';
import {
  allCommitted,
  committedOffsets,
  createTestTopics,
  exitOf,
  expectedProfiles,
  produceEvents,
  profilesOf,
  sampleEvents,
  sampleSchemas,
  type Produced,
  TestResources,
  waitFor,
  writeWorkspace,
} from '../../support/delivery-harness.js';
import { testKafka, uniqueTopic } from '../../support/kafka.js';

const resources = new TestResources();
afterEach(() => resources.closeAll());

/** Settings that make batches quick in a test: small linger, frequent polls. */
const QUICK_BULK = { linger_ms: 100, poll_interval_ms: 200 };

describe('the bulk route', () => {
  it('backfill delivers three 3-partition topics by bulk, commits them, and prints its summary', async () => {
    const topics = await createTestTopics(uniqueTopic('backfill'), 3);
    const events = sampleEvents(3000, 300, 91);
    const produced = await produceEvents(topics, events, 3);
    const target = await resources.sandbox({ bulkDelayMs: 300 });
    const groupId = `${topics.prefix}.g`;
    const config = writeWorkspace({ topics, targetUrl: target.url, groupId, delivery: { bulk: QUICK_BULK } });
    let out = '';
    const code = await runBackfill({ config, logLevel: 'warn' }, (t) => (out += t));
    expect(code).toBe(0);
    const summary = JSON.parse(out) as BackfillSummary;
    expect(summary).toMatchObject({ events: 3000, deadLettered: 0, singleRequests: 0 });
    expect(summary.batches).toBeGreaterThan(0);
    expect(summary.rows).toBeGreaterThan(0);
    expect(summary.profiles).toBeLessThanOrEqual(300);
    expect(await allCommitted(groupId, produced)).toBe(true);
    const expected = expectedProfiles(events);
    expect(profilesOf(target, expected.keys())).toEqual(expected);
    // Nothing went by single updates (but the start-up probe), and no profile had two rows pending at once.
    expect(target.updates().filter((u) => u.method !== 'BULK' && u.identity.value !== PROBE_IDENTITY.value)).toEqual([]);
    expect(target.stats().bulkOrderViolations).toBe(0);
    expect(target.batches().length).toBe(summary.batches);
  }, 120_000);

  it('keeps every attribute of a profile across batches, though a later batch overrides what an earlier one set', async () => {
    const topics = await createTestTopics(uniqueTopic('override'), 1);
    // Few customers, many events: every profile is in several batches, each carrying part of its attributes.
    const events = sampleEvents(2000, 20, 92);
    const produced = await produceEvents(topics, events, 1);
    // Twenty-odd batches and their polls: more than Target's 50 calls a minute, which would make the test wait minutes.
    const calls = 10_000;
    const target = await resources.sandbox({ bulkDelayMs: 200, bulkCallsPerMinute: calls });
    const groupId = `${topics.prefix}.g`;
    // A small bound on held events: the pipeline fills, the batch goes, and the next events wait for it.
    const config = writeWorkspace({
      topics,
      targetUrl: target.url,
      groupId,
      delivery: { bulk: { ...QUICK_BULK, mode: 'always', max_pending: 100, calls_per_minute: calls } },
    });
    const { child } = runChild(resources, config, ['--exit-when-idle']);
    expect((await exitOf(child)).code).toBe(0);
    expect(await allCommitted(groupId, produced)).toBe(true);
    expect(target.batches().length).toBeGreaterThan(3);
    const expected = expectedProfiles(events);
    expect(profilesOf(target, expected.keys())).toEqual(expected);
  }, 120_000);

  it('retries a row Target reports as error and dead-letters its events after max_attempts, with the batch, the row status and the record read again', async () => {
    const topics = await createTestTopics(uniqueTopic('bulkerror'), 1);
    const events = sampleEvents(400, 40, 93);
    const bad = events[0]?.key as string;
    const produced = await produceEvents(topics, events, 1);
    const target = await resources.sandbox({ bulkDelayMs: 100, bulkErrorIds: [bad] });
    const groupId = `${topics.prefix}.g`;
    const config = writeWorkspace({ topics, targetUrl: target.url, groupId, delivery: { bulk: { ...QUICK_BULK, mode: 'always', max_attempts: 2 } } });
    const { child } = runChild(resources, config, ['--exit-when-idle']);
    expect((await exitOf(child)).code).toBe(3);
    const badEvents = events.filter((e) => e.key === bad && expectedProfiles([e]).size > 0).length;
    expect(await deadLetterCount(topics.deadLetter)).toBe(badEvents);
    const letter = await firstLetter(topics.deadLetter);
    expect(letter[DLQ_HEADERS.errorCode]).toBe('BULK_ROW_FAILED');
    expect(letter[DLQ_HEADERS.bulkRowStatus]).toBe('error');
    expect(letter[DLQ_HEADERS.bulkBatchId]).toMatch(/^batch-\d+$/);
    expect(letter[DLQ_HEADERS.attempts]).toBe('2');
    // The events let go of their records while their rows waited: each letter's record was read
    // again from Kafka, and is the very record at the offset it names.
    const letters = await lettersOf(topics.deadLetter, badEvents);
    const types = await sampleSchemas();
    for (const l of letters) {
      const at = produced.find((p) => p.topic === l.headers[DLQ_HEADERS.sourceTopic] && String(p.offset) === l.headers[DLQ_HEADERS.sourceOffset]);
      expect(at?.event.key).toBe(bad);
      expect(l.key).toBe(bad);
      expect(l.value).toEqual(types.get((at as Produced).event.topic)?.toBuffer((at as Produced).event.value));
    }
    const good = expectedProfiles(events.filter((e) => e.key !== bad));
    expect(profilesOf(target, good.keys())).toEqual(good);
  }, 120_000);

  it('loses nothing when killed while a batch is pending: the restart sends the uncommitted rows again', async () => {
    const topics = await createTestTopics(uniqueTopic('bulkkill'), 2);
    const events = sampleEvents(3000, 500, 94);
    const produced = await produceEvents(topics, events, 2);
    const target = await resources.sandbox({ bulkDelayMs: 3000 });
    const groupId = `${topics.prefix}.g`;
    const config = writeWorkspace({ topics, targetUrl: target.url, groupId, delivery: { bulk: { ...QUICK_BULK, mode: 'always' } } });
    const first = runChild(resources, config);
    await waitFor('a batch accepted and still pending', () => target.batches().some((b) => b.statuses.pending > 0), 60_000, 20);
    first.child.kill('SIGKILL');
    await exitOf(first.child);
    expect(await allCommitted(groupId, produced)).toBe(false);
    const second = runChild(resources, config, ['--exit-when-idle']);
    expect((await exitOf(second.child)).code).toBe(0);
    expect(await allCommitted(groupId, produced)).toBe(true);
    const expected = expectedProfiles(events);
    expect(profilesOf(target, expected.keys())).toEqual(expected);
  }, 150_000);

  it('loses nothing when killed right after Target applied a batch: the restart sends at most the rows of uncommitted events', async () => {
    const topics = await createTestTopics(uniqueTopic('bulkapplied'), 2);
    const events = sampleEvents(3000, 500, 95);
    const produced = await produceEvents(topics, events, 2);
    const target = await resources.sandbox({ bulkDelayMs: 1500 });
    const groupId = `${topics.prefix}.g`;
    const config = writeWorkspace({ topics, targetUrl: target.url, groupId, delivery: { bulk: { ...QUICK_BULK, mode: 'always' } } });
    const first = runChild(resources, config);
    // The moment Target applies the batch, before or after the connector's poll and commit: either way nothing may be lost.
    await waitFor('a batch applied by Target', () => target.batches().some((b) => Date.parse(b.appliesAt) <= Date.now()), 60_000, 5);
    first.child.kill('SIGKILL');
    await exitOf(first.child);
    const committed = await committedOffsets(groupId, topics.all);
    // The profiles the uncommitted events update (filtered events update none).
    const uncommittedProfiles = expectedProfiles(produced.filter((p) => p.offset >= (committed.get(`${p.topic}|${p.partition}`) ?? 0)).map((p) => p.event));
    // Rows only: each run's start-up probe is a single update of its own.
    const rowsBefore = target.batches().reduce((n, b) => n + b.rows, 0);
    const second = runChild(resources, config, ['--exit-when-idle']);
    expect((await exitOf(second.child)).code).toBe(0);
    expect(await allCommitted(groupId, produced)).toBe(true);
    const resent = target.batches().reduce((n, b) => n + b.rows, 0) - rowsBefore;
    expect(resent).toBeLessThanOrEqual(uncommittedProfiles.size);
    const expected = expectedProfiles(events);
    expect(profilesOf(target, expected.keys())).toEqual(expected);
  }, 150_000);

  it('in auto mode goes by bulk while far behind, then by single updates once caught up', async () => {
    const topics = await createTestTopics(uniqueTopic('auto'), 1);
    const backlog = sampleEvents(3000, 300, 95);
    const produced = await produceEvents(topics, backlog, 1);
    const target = await resources.sandbox({ bulkDelayMs: 200 });
    const groupId = `${topics.prefix}.g`;
    const config = writeWorkspace({
      topics,
      targetUrl: target.url,
      groupId,
      delivery: { bulk: { ...QUICK_BULK, mode: 'auto', enter_lag: 500, exit_lag: 50 } },
    });
    const { child, lines } = runChild(resources, config);
    await waitFor('the backlog committed', () => allCommitted(groupId, produced), 60_000, 200);
    expect(target.batches().length).toBeGreaterThan(0);
    // Caught up: a few live events go by single updates.
    const live = sampleEvents(30, 10, 96);
    const more = await produceEvents(topics, live, 1);
    await waitFor('the live events committed', () => allCommitted(groupId, more), 30_000, 200);
    expect(target.stats().updates).toBeGreaterThan(0);
    expect(lines().some((l) => String(l.msg).includes('updates go by the Bulk Profile Update API'))).toBe(true);
    expect(lines().some((l) => String(l.msg).includes('updates go by single requests again'))).toBe(true);
    child.kill('SIGTERM');
    expect((await exitOf(child)).code).toBe(0);
    const expected = expectedProfiles([...backlog, ...live]);
    expect(profilesOf(target, expected.keys())).toEqual(expected);
  }, 120_000);
});

/** The first `count` dead letters of a topic: headers as text, key and value. */
async function lettersOf(topic: string, count: number): Promise<Array<{ headers: Record<string, string>; key: string | undefined; value: Buffer | null }>> {
  const consumer = testKafka('bulk-dlq').consumer({ groupId: uniqueTopic('bulk-dlq') });
  await consumer.connect();
  const letters: Array<{ headers: Record<string, string>; key: string | undefined; value: Buffer | null }> = [];
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    void consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        letters.push({ headers, key: message.key?.toString(), value: message.value });
      },
    });
    await waitFor(`${count} dead letters`, () => letters.length >= count, 30_000);
  } finally {
    await consumer.disconnect();
  }
  return letters;
}

/** The headers of the first dead letter of a topic, as text. */
async function firstLetter(topic: string): Promise<Record<string, string>> {
  const consumer = testKafka('bulk-dlq').consumer({ groupId: uniqueTopic('bulk-dlq') });
  await consumer.connect();
  let headers: Record<string, string> | undefined;
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    void consumer.run({
      eachMessage: async ({ message }) => {
        headers ??= Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
      },
    });
    await waitFor('a dead letter', () => headers !== undefined, 30_000);
  } finally {
    await consumer.disconnect();
  }
  return headers as Record<string, string>;
}
