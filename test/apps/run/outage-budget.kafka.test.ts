/**
 * A user-set outage budget ends the run non-zero with offsets uncommitted — never with dead
 * letters — and a restart after the outage delivers everything.
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
import { deadLetterCount, runChild } from '../../support/child-run.js';
import { uniqueTopic } from '../../support/kafka.js';

const resources = new TestResources();
afterEach(() => resources.closeAll());

describe('an outage budget', () => {
  it('ends a run that outlasts it non-zero, committing nothing past the first undelivered event; a restart delivers everything', async () => {
    const topics = await createTestTopics(uniqueTopic('budget'), 3);
    const events = sampleEvents(8000, 2000, 71);
    const produced = await produceEvents(topics, events, 3);
    const target = await resources.sandbox({ latencyMs: 2 });
    const groupId = `${topics.prefix}.g`;
    const config = writeWorkspace({
      topics,
      targetUrl: target.url,
      groupId,
      delivery: { outage_budget_ms: 60_000, max_backoff_ms: 5000 },
    });
    const first = runChild(resources, config);
    await waitFor('part of the stream delivered', () => target.stats().updates >= 1000, 60_000, 20);
    // A five-minute outage begins; the budget is one minute.
    target.setFaults({ failRate: 1 });
    const started = Date.now();
    const { code } = await exitOf(first.child);
    const ranMs = Date.now() - started;
    expect(code).toBe(1);
    expect(ranMs).toBeGreaterThanOrEqual(60_000);
    expect(ranMs).toBeLessThan(5 * 60_000);
    expect(first.lines().some((l) => l.err !== undefined && JSON.stringify(l.err).includes('OUTAGE_BUDGET_EXHAUSTED'))).toBe(true);

    const committed = await committedOffsets(groupId, topics.all);
    const seen = new Set(deliveriesPerEvent(target.updates()).keys());
    expect(uncoveredBelowCommit(produced, committed, seen)).toEqual([]);
    expect(await allCommitted(groupId, produced)).toBe(false);
    expect(await deadLetterCount(topics.deadLetter)).toBe(0);

    target.setFaults({ failRate: 0 });
    const second = runChild(resources, config, ['--exit-when-idle']);
    expect((await exitOf(second.child)).code).toBe(0);
    expect(await allCommitted(groupId, produced)).toBe(true);
    const expected = expectedProfiles(events);
    expect(profilesOf(target, expected.keys())).toEqual(expected);
    expect(await deadLetterCount(topics.deadLetter)).toBe(0);
  }, 240_000);
});
