/**
 * The consumer group is the fleet: `run` replicas with one group_id split the partitions, and
 * when one dies the others (and a newcomer) take its partitions over, with nothing else to
 * coordinate. Real broker, the Target sandbox, the real CLI as child processes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { deadLetterCount } from '../../support/child-run.js';
import {
  committedOffsets,
  deliveriesPerEvent,
  exitOf,
  expectedEffect,
  partitionOf,
  produceEvents,
  TestResources,
  uncoveredBelowCommit,
  waitFor,
} from '../../support/delivery-harness.js';
import {
  committedShare,
  createCrmTopics,
  crmEvents,
  exitWithin,
  expectedWithSequence,
  orderViolations,
  REPLICA_ATTRIBUTE,
  startReplica,
  type Replica,
  takeover,
  uncommittedPartitions,
  updatesPerReplica,
  withoutReplica,
  writeReplicaWorkspace,
} from '../../support/fleet.js';
import { uniqueTopic } from '../../support/kafka.js';

const resources = new TestResources();
afterEach(() => resources.closeAll());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const PARTITIONS = 12;
// The broker's group.min.session.timeout.ms: a killed member's partitions wait this long for a new owner.
const SESSION_TIMEOUT_MS = 6000;
// Few requests in flight against a slow Target, so the stream lasts long enough to kill a replica
// mid-way; commits a second apart, so the killed one surely holds delivered, uncommitted events.
const DELIVERY = { concurrency: 4, commit_interval_ms: 1000, bulk: { mode: 'off' } };

describe('a fleet of run replicas in one consumer group', () => {
  it('survives a SIGKILLed replica and a new one joining: final state exact, nothing lost, order per profile kept', async () => {
    const topics = await createCrmTopics(uniqueTopic('fleet'), PARTITIONS);
    const events = crmEvents(24_000, 3000, 83);
    const target = await resources.sandbox({ latencyMs: 20 });
    const groupId = `${topics.prefix}.g`;
    const replica = (name: string) =>
      startReplica(resources, writeReplicaWorkspace({ topics, targetUrl: target.url, groupId, delivery: DELIVERY }, name, SESSION_TIMEOUT_MS), name);

    const [r1, r2, r3] = ['r1', 'r2', 'r3'].map(replica) as [Replica, Replica, Replica];
    // Events come only once all three share the partitions, so the kill is the only failure they meet.
    await waitFor('three replicas sharing the partitions', () => [r1, r2, r3].every((r) => r.joins().at(-1)?.partitions === PARTITIONS / 3), 60_000);
    const produced = await produceEvents(topics, events, PARTITIONS);
    const mapped = events.filter((e) => expectedEffect(e) !== undefined).length;

    // Updates merge while they queue behind a busy profile, so progress is read from the commits, not counted in requests.
    await waitFor('a third of the stream committed', async () => (await committedShare(groupId, produced)) >= 1 / 3, 60_000, 50);
    const before = updatesPerReplica(target.updates());
    expect([...before.keys()].sort()).toEqual(['r1', 'r2', 'r3']);
    r2.child.kill('SIGKILL');
    await exitOf(r2.child);
    const killedAt = Date.now();
    // A commit sent just before the kill has landed by now; nobody else may commit r2's partitions before its session ends.
    await sleep(500);
    const committedAtKill = await committedOffsets(groupId, topics.all);
    const r4 = replica('r4');

    await waitFor('every partition committed', async () => (await uncommittedPartitions(groupId, produced)).length === 0, 120_000, 250).catch(
      async (error: Error) => {
        throw new Error(`${error.message}; behind: ${(await uncommittedPartitions(groupId, produced)).join(', ')}`);
      },
    );
    const survivors = [r1, r3, r4];
    for (const r of survivors) r.child.kill('SIGTERM');
    // Well past the drain timeout (shutdown_timeout_ms), so a stop that hangs is named.
    expect(await Promise.all(survivors.map((r) => exitWithin(r, 30_000)))).toEqual([0, 0, 0]);

    const updates = target.updates();
    const perReplica = updatesPerReplica(updates);
    console.info(`fleet test: ${updates.length} updates for ${mapped} mapped events; per replica ${JSON.stringify(Object.fromEntries(perReplica))}`);
    expect([...perReplica.keys()].sort()).toEqual(['r1', 'r2', 'r3', 'r4']);

    // (1) Final state exact: every profile as its events say, whoever wrote it last.
    const expected = expectedWithSequence(events);
    const profiles = new Map([...expected.keys()].map((k) => [k, target.profile('mbox3rdPartyId', k)]));
    for (const profile of profiles.values()) expect(['r1', 'r2', 'r3', 'r4']).toContain(profile?.[REPLICA_ATTRIBUTE]);
    expect(new Map([...profiles].map(([k, p]) => [k, withoutReplica(p)]))).toEqual(expected);

    // (2) Nothing lost: every mapped event reached Target, itself or merged into a later one; no dead letters.
    const committed = await committedOffsets(groupId, topics.all);
    expect(uncoveredBelowCommit(produced, committed, new Set(deliveriesPerEvent(updates).keys()))).toEqual([]);
    expect(await deadLetterCount(topics.deadLetter)).toBe(0);

    // (3) Order per profile per run: no replica ever sent a profile's updates out of order.
    const joinTimes = new Map([r1, r2, r3, r4].map((r) => [r.name, r.joins().map((j) => j.at)]));
    expect(orderViolations(updates, joinTimes)).toEqual([]);

    // (4) Failover: r2 died holding delivered but uncommitted events of its own partitions, and
    // the others delivered every one of them again after the kill.
    const r2Partitions = new Set(updates.filter((u) => u.attributes[REPLICA_ATTRIBUTE] === 'r2').map((u) => partitionOf(u.identity.value, PARTITIONS)));
    expect(r2Partitions.size).toBe(PARTITIONS / 3);
    const { uncommitted, notRedone } = takeover(produced, updates, 'r2', committedAtKill, killedAt);
    console.info(`fleet test: r2 was killed with ${uncommitted.length} delivered, uncommitted events on partitions ${[...r2Partitions].join(', ')}`);
    expect(uncommitted.length).toBeGreaterThan(0);
    expect(notRedone).toEqual([]);
  }, 150_000);
});
