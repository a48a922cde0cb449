/**
 * The realtime route end to end: the real broker, the connector, and the sandbox's Delivery API
 * next to its single-update API, with profiles shared between a realtime and single mappings.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DLQ_HEADERS } from '../../../connector/adapters/kafka/headers.js';
import { PROBE_IDENTITY } from '../../../connector/apps/common/target-probe.js';
import { RUN_EXIT } from '../../../connector/apps/run/run.js';
import type { SandboxOptions } from '../../../connector/tools/sandbox/options.js';
import type { Sandbox } from '../../../connector/tools/sandbox/server.js';
import type { LoggedUpdate } from '../../../connector/tools/sandbox/update-log.js';
import { SAMPLE_TOPICS, type SampleEvent } from '../../../connector/tools/sample-events.js';
import { runChild, deadLetterCount } from '../../support/child-run.js';
import {
  allCommitted,
  committedOffsets,
  createTestTopics,
  deliveriesPerEvent,
  eventIdAttribute,
  exitOf,
  expectedEffect,
  expectedProfiles,
  produceEvents,
  profilesOf,
  sampleEvents,
  testMapping,
  TestResources,
  uncoveredBelowCommit,
  waitFor,
  writeWorkspace,
  type Produced,
  type TestTopics,
} from '../../support/delivery-harness.js';
import { testKafka, uniqueTopic } from '../../support/kafka.js';

const resources = new TestResources();
afterEach(() => resources.closeAll());

/** The loyalty swipes' attributes: the only ones the realtime mapping sets. */
const REALTIME_ATTRIBUTES = new Set(['pointsBalance', 'lastStoreId', 'swipeEventId']);

/** The test mapping with the loyalty swipes on the realtime route, the other topics on the single one. */
function mixedMapping(topics: TestTopics): unknown {
  const mapping = testMapping(topics) as { mappings: Array<Record<string, unknown>> };
  const loyalty = topics.all[1];
  return { ...mapping, mappings: mapping.mappings.map((m) => (m['topic'] === loyalty ? { ...m, route: 'realtime' } : m)) };
}

/** Two partitions of each sample topic with `events` on them, a sandbox, and a workspace with the mixed mapping. */
async function mixedRun(name: string, events: SampleEvent[], sandbox: SandboxOptions = {}, delivery: Record<string, unknown> = {}) {
  const topics = await createTestTopics(uniqueTopic(name), 2);
  const produced = await produceEvents(topics, events, 2);
  const target = await resources.sandbox({ latencyMs: 2, ...sandbox });
  const groupId = `${topics.prefix}.g`;
  const config = writeWorkspace({ topics, targetUrl: target.url, groupId, mapping: mixedMapping(topics), delivery });
  return { topics, produced, target, groupId, config };
}

/** The sandbox's accepted updates and Delivery calls, without the start-up probes. */
function updatesOf(target: Sandbox): LoggedUpdate[] {
  return target.updates().filter((u) => u.identity.value !== PROBE_IDENTITY.value);
}

/** Asserts that the run committed every produced event and left the profiles of `events` exactly as they say. */
async function expectExactAndCommitted(run: { topics: TestTopics; produced: Produced[]; target: Sandbox; groupId: string }, events: SampleEvent[]) {
  expect(await allCommitted(run.groupId, run.produced)).toBe(true);
  const expected = expectedProfiles(events);
  expect(profilesOf(run.target, expected.keys())).toEqual(expected);
}

/** Whether a sandbox profile holds exactly these attributes, in any order. */
function sameAttributes(actual: Record<string, string> | undefined, expected: Record<string, string>): boolean {
  return actual !== undefined && Object.keys(actual).length === Object.keys(expected).length && Object.entries(expected).every(([k, v]) => actual[k] === v);
}

/** The dead letters of a topic with their keys and headers as text, once `count` are there. */
async function deadLetters(topic: string, groupId: string, count: number): Promise<Array<{ key: string; headers: Record<string, string> }>> {
  const consumer = testKafka('dlq-reader').consumer({ groupId: `${groupId}.dlq-reader` });
  await consumer.connect();
  const letters: Array<{ key: string; headers: Record<string, string> }> = [];
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    void consumer.run({
      eachMessage: async ({ message }) => {
        letters.push({
          key: String(message.key),
          headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
        });
      },
    });
    await waitFor(`${count} dead letters`, () => letters.length >= count, 30_000);
  } finally {
    await consumer.disconnect();
  }
  return letters;
}

describe('the realtime route', () => {
  it('delivers a realtime and single mappings sharing profiles: final state exact, each door only its own attributes', async () => {
    const events = sampleEvents(3000, 200, 181);
    const run = await mixedRun('realtime', events);
    const { child } = runChild(resources, run.config, ['--exit-when-idle']);
    expect((await exitOf(child)).code).toBe(0);
    await expectExactAndCommitted(run, events);
    expect(await deadLetterCount(run.topics.deadLetter)).toBe(0);
    const updates = updatesOf(run.target);
    const realtime = updates.filter((u) => u.route === 'realtime');
    const single = updates.filter((u) => u.route === 'single');
    expect(realtime.length).toBeGreaterThan(0);
    expect(single.length).toBeGreaterThan(0);
    expect(realtime.flatMap((u) => Object.keys(u.attributes)).filter((a) => !REALTIME_ATTRIBUTES.has(a))).toEqual([]);
    expect(single.flatMap((u) => Object.keys(u.attributes)).filter((a) => REALTIME_ATTRIBUTES.has(a))).toEqual([]);
  }, 120_000);

  it("keeps each profile's updates in offset order across both routes, one request per profile at a time", async () => {
    const events = sampleEvents(3000, 150, 182);
    const run = await mixedRun('rtorder', events, { latencyMs: 3 });
    const { child } = runChild(resources, run.config, ['--exit-when-idle']);
    expect((await exitOf(child)).code).toBe(0);
    await expectExactAndCommitted(run, events);

    // What is asserted: the three topics sit on different partitions, so offset order is defined
    // per topic-partition only. For every profile, the event ids of each topic (crmEventId,
    // swipeEventId, txnId) arrive, whichever route carried them and with both routes interleaved
    // in one arrival log, in that topic's production (= offset) order: strictly later each time,
    // since merging may skip events but never goes back. One request per profile at a time across
    // routes cannot be read from the sandbox (it counts in-flight requests per profile for single
    // updates and per session for Delivery calls, not across the two); both of those are asserted to be 1.
    const position = new Map<string, number>();
    events.forEach((e, i) => {
      if (expectedEffect(e) !== undefined) position.set(eventIdAttribute(e).value, i);
    });
    const lastSeen = new Map<string, number>();
    const backwards: string[] = [];
    const routesSeen = new Map<string, Set<string>>();
    for (const u of updatesOf(run.target)) {
      const profile = u.identity.value;
      routesSeen.set(profile, (routesSeen.get(profile) ?? new Set()).add(u.route));
      for (const name of ['crmEventId', 'swipeEventId', 'txnId']) {
        const id = u.attributes[name];
        if (id === undefined) continue;
        const at = position.get(id);
        expect(at, `${name}=${id} is a produced event`).toBeDefined();
        const key = `${profile}|${name}`;
        if ((lastSeen.get(key) ?? -1) >= (at as number)) backwards.push(`${key}: ${id} at ${at} after ${lastSeen.get(key)}`);
        lastSeen.set(key, at as number);
      }
    }
    expect(backwards).toEqual([]);
    // The check means something only when profiles really took both doors.
    expect([...routesSeen.values()].filter((r) => r.size === 2).length).toBeGreaterThan(50);
    const stats = run.target.stats();
    expect(stats.maxConcurrentPerProfile).toBe(1);
    expect(stats.maxConcurrentPerSession).toBe(1);
  }, 120_000);

  it('an outage of only the Delivery endpoint holds only the realtime updates: single-route profiles keep flowing, nothing dead-lettered', async () => {
    const all = sampleEvents(6000, 600, 183);
    // Nine customers in ten never swipe a card: their profiles need only the single door. While the
    // door is down, a held swipe keeps its partition's commit back, so every event fetched after it
    // stays pending: max_pending holds the whole stream, so fetching never has to pause for memory
    // (that backpressure is right, but then how far single profiles get would depend on timing).
    const customers = [...new Set(all.map((e) => e.key))];
    const swipers = new Set(customers.filter((_, i) => i % 10 === 0));
    const events = all.filter((e) => e.topic !== SAMPLE_TOPICS.loyalty || swipers.has(e.key));
    const run = await mixedRun('rtoutage', events, { latencyMs: 5 }, { max_pending: 2 * events.length });
    const { child } = runChild(resources, run.config, ['--exit-when-idle']);
    await waitFor('a first Delivery call', () => updatesOf(run.target).some((u) => u.route === 'realtime'), 60_000, 20);

    run.target.setFaults({ failRate: 1, faultScope: ['delivery'] });
    const downAt = run.target.updates().length;
    const downSince = Date.now();
    // Fetching goes on: the single-route profiles reach their final state while the door is down.
    const singleOnly = expectedProfiles(events.filter((e) => !swipers.has(e.key)));
    await waitFor(
      'single-route profiles delivered in full while the Delivery door is down',
      () => [...singleOnly].every(([key, profile]) => sameAttributes(run.target.profile('mbox3rdPartyId', key), profile)),
      30_000,
      200,
    );
    expect(run.target.updates({ from: downAt }).filter((u) => u.route === 'single' && !swipers.has(u.identity.value)).length).toBeGreaterThan(0);
    // The outage lasts ~10 s: long enough for many retries and an open breaker, far below the outage budget.
    await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - downSince))));
    const duringOutage = run.target.updates({ from: downAt });
    expect(duringOutage.filter((u) => u.route === 'realtime')).toEqual([]);
    expect(run.target.stats().deliveryByStatus['503'] ?? 0).toBeGreaterThan(0);
    expect(await deadLetterCount(run.topics.deadLetter)).toBe(0);
    run.target.setFaults({ failRate: 0 });

    expect((await exitOf(child)).code).toBe(0);
    await expectExactAndCommitted(run, events);
    expect(await deadLetterCount(run.topics.deadLetter)).toBe(0);
    expect(run.target.updates({ from: downAt + duringOutage.length }).some((u) => u.route === 'realtime')).toBe(true);
  }, 90_000);

  it("dead-letters the event of a profile whose Delivery call is refused for good (400), with the reply's message, and moves on", async () => {
    const all = sampleEvents(3000, 200, 184);
    const rejected = all.find((e) => e.topic === SAMPLE_TOPICS.loyalty)!.key;
    // The rejected profile only swipes cards, so every refusal it meets is a Delivery call's.
    const events = all.filter((e) => e.key !== rejected || e.topic === SAMPLE_TOPICS.loyalty);
    const swipes = events.filter((e) => e.key === rejected);
    const run = await mixedRun('rtreject', events, { rejectIds: [rejected] });
    const { child } = runChild(resources, run.config, ['--exit-when-idle']);
    expect((await exitOf(child)).code).toBe(RUN_EXIT.deadLettered);

    const others = events.filter((e) => e.key !== rejected);
    await expectExactAndCommitted(run, others);
    // The partition moved on: other profiles' events after the last refused one were delivered and committed.
    const last = run.produced.filter((p) => p.event.key === rejected).at(-1)!;
    expect(run.produced.some((p) => p.topic === last.topic && p.partition === last.partition && p.offset > last.offset)).toBe(true);
    expect(run.target.profile('mbox3rdPartyId', rejected)).toBeUndefined();
    expect(run.target.stats().deliveryByStatus['400'] ?? 0).toBeGreaterThan(0);
    expect(await deadLetterCount(run.topics.deadLetter)).toBe(swipes.length);
    const letters = await deadLetters(run.topics.deadLetter, run.groupId, swipes.length);
    const loyaltyTopic = run.topics.byKind[SAMPLE_TOPICS.loyalty];
    const swipeOffsets = run.produced.filter((p) => p.event.key === rejected).map((p) => String(p.offset));
    for (const letter of letters) {
      expect(letter.key).toBe(rejected);
      expect(letter.headers[DLQ_HEADERS.sourceTopic]).toBe(loyaltyTopic);
      expect(swipeOffsets).toContain(letter.headers[DLQ_HEADERS.sourceOffset]);
      expect(letter.headers[DLQ_HEADERS.errorMessage]).toContain(`call refused for mbox3rdPartyId=${rejected} (sandbox rejectIds)`);
    }
  }, 90_000);

  it('loses nothing when the run is SIGKILLed mid-stream and restarted', async () => {
    const events = sampleEvents(6000, 600, 185);
    const run = await mixedRun('rtkill', events, { latencyMs: 5 });
    const first = runChild(resources, run.config);
    await waitFor(
      'both doors under way',
      () => {
        const updates = updatesOf(run.target);
        return updates.filter((u) => u.route === 'realtime').length >= 100 && updates.filter((u) => u.route === 'single').length >= 100;
      },
      60_000,
      20,
    );
    first.child.kill('SIGKILL');
    await exitOf(first.child);
    expect(await allCommitted(run.groupId, run.produced)).toBe(false);

    const second = runChild(resources, run.config, ['--exit-when-idle']);
    expect((await exitOf(second.child)).code).toBe(0);
    await expectExactAndCommitted(run, events);
    expect(await deadLetterCount(run.topics.deadLetter)).toBe(0);
    // Every event reached Target itself or through a later event of its profile merged over it.
    const seen = new Set(deliveriesPerEvent(updatesOf(run.target)).keys());
    expect(uncoveredBelowCommit(run.produced, await committedOffsets(run.groupId, run.topics.all), seen)).toEqual([]);
  }, 90_000);

  it("keeps one profile's updates in offset order across routes when two mappings of one topic take different doors", async () => {
    // DESIGN allows several mappings on one topic: in-store (POS) swipes go by the Delivery API,
    // the others by single updates, so one profile's two routes interleave in one partition's
    // offset order, and a lane that let a later update overtake an earlier one of the other
    // route (e.g. by merging it into an older run) would show.
    const events = sampleEvents(4000, 150, 186).filter((e) => e.topic === SAMPLE_TOPICS.loyalty);
    const topics = await createTestTopics(uniqueTopic('rtsplit'), 2);
    const produced = await produceEvents(topics, events, 2);
    const target = await resources.sandbox({ latencyMs: 3 });
    const groupId = `${topics.prefix}.g`;
    const loyalty = (testMapping(topics) as { mappings: Array<Record<string, unknown>> }).mappings[1]!;
    const mapping = {
      version: 1,
      mappings: [
        { ...loyalty, when: [{ path: 'channel', in: ['POS'] }], attributes: { pointsBalance: 'pointsBalance', swipeEventId: 'eventId' }, route: 'realtime' },
        { ...loyalty, when: [{ path: 'channel', not_in: ['POS'] }], attributes: { lastStoreId: 'store.id', swipeSingleId: 'eventId' } },
      ],
    };
    const { child } = runChild(resources, writeWorkspace({ topics, targetUrl: target.url, groupId, mapping }), ['--exit-when-idle']);
    expect((await exitOf(child)).code).toBe(0);
    expect(await allCommitted(groupId, produced)).toBe(true);
    const expected = new Map<string, Record<string, string>>();
    for (const e of events) {
      const { pointsBalance, lastStoreId, swipeEventId } = expectedEffect(e) as { pointsBalance: string; lastStoreId: string; swipeEventId: string };
      const change: Record<string, string> =
        (e.value as { channel: string }).channel === 'POS' ? { pointsBalance, swipeEventId } : { lastStoreId, swipeSingleId: swipeEventId };
      expected.set(e.key, { ...expected.get(e.key), ...change });
    }
    expect(profilesOf(target, expected.keys())).toEqual(expected);

    // Per profile, in the sandbox's arrival order across both routes, the swipes' production
    // positions only go forward (merging may skip events, never reorder them).
    const position = new Map(events.map((e, i) => [eventIdAttribute(e).value, i]));
    const last = new Map<string, { at: number; route: string }>();
    const backwards: string[] = [];
    let crossings = 0;
    for (const u of updatesOf(target)) {
      const id = u.route === 'realtime' ? u.attributes['swipeEventId'] : u.attributes['swipeSingleId'];
      const at = position.get(id ?? '');
      expect(at, `${u.route} update carries a produced swipe id`).toBeDefined();
      const before = last.get(u.identity.value);
      if (before && before.at >= (at as number)) backwards.push(`${u.identity.value}: ${u.route} ${at} after ${before.route} ${before.at}`);
      if (before && before.route !== u.route) crossings++;
      last.set(u.identity.value, { at: at as number, route: u.route });
    }
    expect(backwards).toEqual([]);
    expect(crossings).toBeGreaterThan(100);
  }, 90_000);
});
