/**
 * A healthy run writes no error-level line: a group rebalancing as a second member joins, a
 * coordinator loading and kafkajs' other transient states stay below warn (JSON logs, parsed).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RUN_EXIT } from '../../../connector/apps/run/run.js';
import { runChild } from '../../support/child-run.js';
import { allCommitted, createTestTopics, exitOf, produceEvents, sampleEvents, TestResources, waitFor, writeWorkspace } from '../../support/delivery-harness.js';
import { uniqueTopic } from '../../support/kafka.js';

const resources = new TestResources();
afterEach(() => resources.closeAll());

describe('calm logs', () => {
  it('two members sharing a group through a rebalance, then SIGTERM: no line at error level or above', async () => {
    const topics = await createTestTopics(uniqueTopic('calm'), 2);
    const produced = await produceEvents(topics, sampleEvents(600, 150, 91), 2);
    const target = await resources.sandbox({ latencyMs: 5 });
    const groupId = `${topics.prefix}.g`;
    const config = writeWorkspace({ topics, targetUrl: target.url, groupId });
    const first = runChild(resources, config);
    await waitFor('the first member to deliver', () => target.stats().updates > 50, 30_000, 20);
    // The second member makes the group rebalance under the first one's heartbeats.
    const second = runChild(resources, config);
    await waitFor(
      'both members to join',
      () => first.lines().filter((l) => l.msg === 'joined consumer group').length >= 2 && second.lines().some((l) => l.msg === 'joined consumer group'),
      30_000,
      100,
    );
    await waitFor('every event committed', () => allCommitted(groupId, produced), 60_000, 200);
    first.child.kill('SIGTERM');
    second.child.kill('SIGTERM');
    expect((await exitOf(first.child)).code).toBe(RUN_EXIT.ok);
    expect((await exitOf(second.child)).code).toBe(RUN_EXIT.ok);
    const errors = [...first.lines(), ...second.lines()].filter((l) => (l.level as number) >= 50);
    expect(errors).toEqual([]);
    // Nothing unusual happened, so kafkajs has nothing to warn about either.
    expect([...first.lines(), ...second.lines()].filter((l) => l.component === 'kafkajs' && (l.level as number) >= 40)).toEqual([]);
  }, 120_000);
});
