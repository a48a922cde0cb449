/**
 * `run` when the daily quota is spent: one warning naming the budget, and a SIGTERM that ends the
 * run at once instead of waiting out the shutdown timeout for events that wait on quota; what was
 * acknowledged is committed, what waited is not.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RUN_EXIT } from '../../../connector/apps/run/run.js';
import { runChild } from '../../support/child-run.js';
import {
  committedOffsets,
  createTestTopics,
  deliveriesPerEvent,
  eventIdAttribute,
  exitOf,
  expectedEffect,
  produceEvents,
  TestResources,
  uncoveredBelowCommit,
  waitFor,
  writeWorkspace,
  type Produced,
} from '../../support/delivery-harness.js';
import { crmEvents } from '../../support/fleet.js';
import { uniqueTopic } from '../../support/kafka.js';

const resources = new TestResources();
afterEach(() => resources.closeAll());

const QUOTA = 10;
/** Far beyond the test's own timeout: a stop that waits for it fails the test. */
const SHUTDOWN_TIMEOUT_MS = 120_000;

/** The offset after the acknowledged prefix: the first mapped event whose update (or a later one of its profile) never reached Target. */
function acknowledgedPrefixEnd(produced: Produced[], seenIds: Set<string>): number {
  const sorted = [...produced].sort((a, b) => a.offset - b.offset);
  const first = sorted.find(
    (p, i) =>
      expectedEffect(p.event) !== undefined &&
      !sorted.slice(i).some((q) => q.event.key === p.event.key && expectedEffect(q.event) !== undefined && seenIds.has(eventIdAttribute(q.event).value)),
  );
  return first?.offset ?? (sorted.at(-1) as Produced).offset + 1;
}

describe('run with its daily quota spent', () => {
  it('warns once, and on SIGTERM exits 0 before the shutdown timeout, committing exactly the acknowledged prefix', async () => {
    const topics = await createTestTopics(uniqueTopic('quota-stop'), 1);
    const produced = await produceEvents(topics, crmEvents(60, 1000, 71), 1);
    const target = await resources.sandbox();
    const groupId = `${topics.prefix}.g`;
    const config = writeWorkspace({
      topics,
      targetUrl: target.url,
      groupId,
      delivery: { daily_quota: QUOTA, quota_window_ms: 3_600_000, concurrency: 4, shutdown_timeout_ms: SHUTDOWN_TIMEOUT_MS, bulk: { mode: 'off' } },
    });
    const { child, lines } = runChild(resources, config);
    const spent = () => lines().filter((l) => String(l.msg).includes('is spent'));
    await waitFor('the quota-spent warning', () => spent().length > 0 || child.exitCode !== null, 60_000, 50);
    expect(spent()[0]).toMatchObject({ level: 40, budget: expect.stringContaining('delivery.daily_quota') });
    // Every request the quota allowed has its answer: nothing is in flight.
    await waitFor(`${QUOTA} updates delivered`, () => deliveriesPerEvent(target.updates()).size >= QUOTA, 30_000, 50);

    child.kill('SIGTERM');
    expect((await exitOf(child)).code).toBe(RUN_EXIT.ok);
    expect(spent()).toHaveLength(1);

    const seen = new Set(deliveriesPerEvent(target.updates()).keys());
    const committed = await committedOffsets(groupId, topics.all);
    const crm = produced[0] as Produced;
    expect(uncoveredBelowCommit(produced, committed, seen)).toEqual([]);
    expect(committed.get(`${crm.topic}|0`)).toBe(acknowledgedPrefixEnd(produced, seen));
    expect(acknowledgedPrefixEnd(produced, seen)).toBeLessThan((produced.at(-1) as Produced).offset + 1);
  }, 90_000);
});
