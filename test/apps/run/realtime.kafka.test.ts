/**
 * The realtime route end to end: the real broker, the connector, and the sandbox's Delivery API
 * next to its single-update API, with profiles shared between a realtime and single mappings.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PROBE_IDENTITY } from '../../../connector/apps/common/target-probe.js';
import { runChild, deadLetterCount } from '../../support/child-run.js';
import {
  allCommitted,
  createTestTopics,
  exitOf,
  expectedProfiles,
  produceEvents,
  profilesOf,
  sampleEvents,
  testMapping,
  TestResources,
  writeWorkspace,
  type TestTopics,
} from '../../support/delivery-harness.js';
import { uniqueTopic } from '../../support/kafka.js';

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

describe('the realtime route', () => {
  it('delivers a realtime and single mappings sharing profiles: final state exact, each door only its own attributes', async () => {
    const topics = await createTestTopics(uniqueTopic('realtime'), 2);
    const events = sampleEvents(3000, 200, 181);
    const produced = await produceEvents(topics, events, 2);
    const target = await resources.sandbox({ latencyMs: 2 });
    const groupId = `${topics.prefix}.g`;
    const config = writeWorkspace({ topics, targetUrl: target.url, groupId, mapping: mixedMapping(topics) });
    const { child } = runChild(resources, config, ['--exit-when-idle']);
    expect((await exitOf(child)).code).toBe(0);
    expect(await allCommitted(groupId, produced)).toBe(true);
    const expected = expectedProfiles(events);
    expect(profilesOf(target, expected.keys())).toEqual(expected);
    expect(await deadLetterCount(topics.deadLetter)).toBe(0);
    const updates = target.updates().filter((u) => u.identity.value !== PROBE_IDENTITY.value);
    const realtime = updates.filter((u) => u.route === 'realtime');
    const single = updates.filter((u) => u.route === 'single');
    expect(realtime.length).toBeGreaterThan(0);
    expect(single.length).toBeGreaterThan(0);
    expect(realtime.flatMap((u) => Object.keys(u.attributes)).filter((a) => !REALTIME_ATTRIBUTES.has(a))).toEqual([]);
    expect(single.flatMap((u) => Object.keys(u.attributes)).filter((a) => REALTIME_ATTRIBUTES.has(a))).toEqual([]);
  }, 120_000);
});
