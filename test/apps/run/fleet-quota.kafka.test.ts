/**
 * One account quota for a fleet of `run` replicas: the Target sandbox's log is the referee, and no
 * 10 s window of it may hold more than the account's 3,000 requests — with the budget shared in a
 * real Redis (also while Redis is away, and when a replica dies holding reservations), and with
 * the local assignment shares across rebalances. Real broker, real redis-server, the CLI and the
 * sandbox as child processes.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { LoggedUpdate } from '../../../connector/tools/sandbox/update-log.js';
import type { SampleEvent } from '../../../connector/tools/sample-events.js';
import { deadLetterCount, runChild } from '../../support/child-run.js';
import {
  allCommitted,
  committedOffsets,
  deliveriesPerEvent,
  exitOf,
  partitionOf,
  produceEvents,
  TestResources,
  uncoveredBelowCommit,
  waitFor,
  type Produced,
  type TestTopics,
} from '../../support/delivery-harness.js';
import { createCrmTopics, crmEvents, expectedWithSequence, REPLICA_ATTRIBUTE, withoutReplica, writeReplicaWorkspace } from '../../support/fleet.js';
import { uniqueTopic } from '../../support/kafka.js';
import { arrivals, busiestWindow, countsPerWindow, windowPeaks, type WindowPeak } from '../../support/quota-windows.js';
import { startTestRedis, type TestRedis } from '../../support/redis-server.js';
import { startSandboxProcess, type SandboxProcess } from '../../support/sandbox-process.js';

const QUOTA = 3000;
const WINDOW_MS = 10_000;
// Short, because the shared window counts a unit for a request's timeout (plus a second in the
// pool, POOL_TTL_MS of connector/apps/common/quota.ts) beyond the window: the longer the timeout,
// the fewer requests per window.
const TARGET_TIMEOUT_MS = 1000;
const HOLD_MS = TARGET_TIMEOUT_MS + 1000;
// Most units one Redis reservation takes (BATCH_SHARE of connector/apps/common/quota.ts).
const RESERVATION_BATCH = QUOTA / 200;
// The broker's group.min.session.timeout.ms: a killed member's partitions wait this long for a new owner.
const SESSION_TIMEOUT_MS = 6000;
const EVENTS = 30_000;
const FALLBACK_LOG = /^the quota store \(Redis\) cannot be reached/;
const BACK_LOG = /^the quota store \(Redis\) answers again/;
// A replica's quota (its share, or the fleet's budget in Redis) binds: its updates wait for it.
const SPENT_LOG = / is spent: updates wait for it/;
const RESTORED_LOG = / has room again; delivery resumed/;

const resources = new TestResources();
let redis: TestRedis | undefined;
const keyPrefixes: string[] = [];

beforeAll(async () => {
  redis = await startTestRedis();
});

afterEach(async () => {
  await resources.closeAll();
  for (const prefix of keyPrefixes.splice(0)) await redis?.deleteKeys(prefix);
});

afterAll(async () => {
  await redis?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function server(): TestRedis {
  if (!redis) throw new Error('Redis did not start (see beforeAll)');
  return redis;
}

/** One `run` child; its updates carry its name in REPLICA_ATTRIBUTE. */
interface Replica {
  name: string;
  child: ReturnType<typeof runChild>['child'];
  lines(): Array<Record<string, unknown>>;
  /** Partitions it got when it last joined the group (undefined before it joined). */
  owned(): number | undefined;
}

interface QuotaFleet {
  topics: TestTopics;
  target: SandboxProcess;
  groupId: string;
  partitions: number;
  start(name: string): Replica;
}

/** Topics, a sandbox and a group whose replicas share `daily_quota: 3000` per 10 s, through Redis (keys of this test alone) or locally. */
async function quotaFleet(label: string, partitions: number, kind: 'redis' | 'local', settings: Record<string, unknown> = {}): Promise<QuotaFleet> {
  const [topics, target] = await Promise.all([createCrmTopics(uniqueTopic(label), partitions), startSandboxProcess(resources)]);
  if (kind === 'redis') keyPrefixes.push(topics.prefix);
  const quotaStore = kind === 'redis' ? { kind, url: server().url, key_prefix: topics.prefix } : { kind };
  const groupId = `${topics.prefix}.g`;
  const start = (name: string): Replica => {
    const delivery = { daily_quota: QUOTA, quota_window_ms: WINDOW_MS, quota_store: quotaStore, bulk: { mode: 'off' }, ...settings };
    const config = writeReplicaWorkspace({ topics, targetUrl: target.url, groupId, delivery }, name, SESSION_TIMEOUT_MS);
    const parsed = parse(readFileSync(config, 'utf8')) as { target: Record<string, unknown> };
    parsed.target.timeout_ms = TARGET_TIMEOUT_MS;
    writeFileSync(config, stringify(parsed));
    const { child, lines } = runChild(resources, config);
    const owned = () => lines().findLast((l) => l.msg === 'joined consumer group')?.partitions as number | undefined;
    return { name, child, lines, owned };
  };
  return { topics, target, groupId, partitions, start };
}

/** Starts the replicas and waits until each owns its even part of the partitions: the group is formed. */
async function formedFleet(fleet: QuotaFleet, names: string[]): Promise<Replica[]> {
  const replicas = names.map((name) => fleet.start(name));
  await waitFor(
    `${names.join(', ')} sharing ${fleet.partitions} partitions`,
    () => replicas.every((r) => r.owned() === fleet.partitions / names.length),
    90_000,
  );
  return replicas;
}

/** SIGTERMs the replicas and expects a clean exit from each. */
async function stopAll(replicas: Replica[]): Promise<void> {
  for (const r of replicas) r.child.kill('SIGTERM');
  const exits = await Promise.all(replicas.map((r) => exitOf(r.child)));
  expect(exits.map((e) => e.code)).toEqual(replicas.map(() => 0));
}

/** Starts producing the events (the load); resolves with where they landed once all are produced. */
function load(fleet: QuotaFleet, events: SampleEvent[]): { origin: number; produced: Promise<Produced[]> } {
  const produced = produceEvents(fleet.topics, events, fleet.partitions);
  // Awaited by the test; a test that fails before that must not leave it unhandled.
  produced.catch(() => undefined);
  return { origin: Date.now(), produced };
}

/** Waits until the sandbox accepted `count` requests: the fleet is in the middle of a burst. */
async function sending(fleet: QuotaFleet, count: number): Promise<void> {
  await waitFor(`${count} requests sent`, async () => (await fleet.target.updateCount()) >= count, 60_000, 20);
}

async function everyPartitionCommitted(fleet: QuotaFleet, produced: Produced[]): Promise<void> {
  await waitFor('every partition committed', () => allCommitted(fleet.groupId, produced), 150_000, 500);
}

/** The busiest 10 s windows, logged with the per-window counts since `origin`; the fleet's may not exceed the quota. */
function expectWithinQuota(label: string, updates: LoggedUpdate[], origin: number): { fleet: WindowPeak; byReplica: Map<string, WindowPeak> } {
  const peaks = windowPeaks(updates, WINDOW_MS);
  const at = (p: WindowPeak) => `${p.count} (+${((p.start - origin) / 1000).toFixed(1)} s)`;
  console.info(
    `${label}: ${updates.length} requests in ${((Date.parse(updates.at(-1)?.receivedAt ?? '') - origin) / 1000).toFixed(1)} s; ` +
      `busiest 10 s: fleet ${at(peaks.fleet)}, ${[...peaks.byReplica].map(([r, p]) => `${r} ${at(p)}`).join(', ')}; ` +
      `per 10 s from the load: ${countsPerWindow(arrivals(updates), WINDOW_MS, origin).join(', ')}`,
  );
  // Soft: the checks after it still run, so a failing test tells everything it saw.
  expect.soft(peaks.fleet.count).toBeLessThanOrEqual(QUOTA);
  return peaks;
}

/** Final state exact, every event delivered (itself or merged into a later one), all committed, no dead letters. */
async function expectAllDelivered(fleet: QuotaFleet, updates: LoggedUpdate[], events: SampleEvent[], produced: Produced[]): Promise<void> {
  const expected = expectedWithSequence(events);
  const profiles = await fleet.target.profiles(expected.keys());
  expect(new Map([...profiles].map(([k, p]) => [k, withoutReplica(p)]))).toEqual(expected);
  const committed = await committedOffsets(fleet.groupId, fleet.topics.all);
  expect(uncoveredBelowCommit(produced, committed, new Set(deliveriesPerEvent(updates).keys()))).toEqual([]);
  expect(await allCommitted(fleet.groupId, produced)).toBe(true);
  expect(await deadLetterCount(fleet.topics.deadLetter)).toBe(0);
}

/** True when the replica said its quota was spent (updates waiting for it) at some moment of [from, to]. */
function spentWithin(replica: Replica, from: number, to: number): boolean {
  let spent = false;
  for (const line of replica.lines()) {
    const time = Number(line.time);
    if (time > to) break;
    if (SPENT_LOG.test(String(line.msg))) spent = true;
    else if (RESTORED_LOG.test(String(line.msg))) spent = false;
    else continue;
    if (spent && time >= from) return true;
  }
  // Spent before `from` and not restored since: still waiting at `from`.
  return spent;
}

/** Log lines of a replica whose message matches. */
function logged(replica: Replica, message: RegExp): Array<Record<string, unknown>> {
  return replica.lines().filter((l) => message.test(String(l.msg)));
}

describe('a fleet sharing one account quota', () => {
  it('three replicas on one Redis window stay within 3,000 requests per 10 s together, and deliver 30,000 events', async () => {
    const fleet = await quotaFleet('fq-redis', 6, 'redis');
    const replicas = await formedFleet(fleet, ['r1', 'r2', 'r3']);
    // Few profiles: queued events of a profile merge, so 30,000 events take a few windows, not ten.
    const events = crmEvents(EVENTS, 1500, 101);
    const { origin, produced: producing } = load(fleet, events);
    const produced = await producing;
    await everyPartitionCommitted(fleet, produced);
    await stopAll(replicas);

    const updates = await fleet.target.updates();
    const peaks = expectWithinQuota('shared budget', updates, origin);
    // The quota bound the fleet: else this test would prove nothing. Said by the replicas (the
    // fleet's budget spent), not by a count per window, which a slow machine would lower.
    expect(peaks.fleet.count).toBeGreaterThan(0);
    expect(replicas.some((r) => logged(r, SPENT_LOG).length > 0)).toBe(true);
    await expectAllDelivered(fleet, updates, events, produced);
  }, 200_000);

  it('with Redis stopped for 20 s mid-run, each replica falls back to its share once, and the fleet still stays within the quota', async () => {
    const fleet = await quotaFleet('fq-outage', 6, 'redis');
    const replicas = await formedFleet(fleet, ['r1', 'r2', 'r3']);
    // More profiles than above, so fewer merges: the load outlasts the outage, and the replicas
    // return to the shared window under full load.
    const events = crmEvents(EVENTS, 3000, 102);
    const { origin, produced: producing } = load(fleet, events);
    await sending(fleet, QUOTA / 2);
    const stoppedAt = Date.now();
    await server().stop();
    try {
      await sleep(20_000);
    } finally {
      // Back on the same port, empty: the replicas find it by themselves.
      await server().start();
    }
    const restartedAt = Date.now();
    const produced = await producing;
    await everyPartitionCommitted(fleet, produced);
    await stopAll(replicas);

    const updates = await fleet.target.updates();
    console.info(`Redis stopped at +${((stoppedAt - origin) / 1000).toFixed(1)} s, back at +${((restartedAt - origin) / 1000).toFixed(1)} s`);
    expectWithinQuota('Redis outage', updates, origin);
    expect(replicas.some((r) => logged(r, SPENT_LOG).length > 0)).toBe(true);
    await expectAllDelivered(fleet, updates, events, produced);
    // Each noticed the outage once (its requests kept to its share meanwhile), and the return once.
    expect(replicas.map((r) => [r.name, logged(r, FALLBACK_LOG).length, logged(r, BACK_LOG).length])).toEqual(replicas.map((r) => [r.name, 1, 1]));
    for (const r of replicas) {
      const fellBack = Number(logged(r, FALLBACK_LOG)[0]?.time);
      const back = Number(logged(r, BACK_LOG)[0]?.time);
      expect(fellBack).toBeGreaterThanOrEqual(stoppedAt);
      expect(back - WINDOW_MS).toBeGreaterThan(fellBack);
      // Meanwhile it kept to its share, 2 of the 6 partitions: a third of the quota in any window.
      expect(busiestWindow(arrivals(updates, r.name), WINDOW_MS, fellBack, back - WINDOW_MS).count).toBeLessThanOrEqual(QUOTA / 3);
    }
  }, 240_000);

  it('with Redis, the replica that owns the one busy partition of six takes ≥ 90% of the account quota', async () => {
    const partitions = 6;
    const fleet = await quotaFleet('fq-skew', partitions, 'redis');
    const replicas = await formedFleet(fleet, ['r1', 'r2', 'r3']);
    // Every event keyed to partition 0: a static split would leave its owner a sixth of the quota.
    const events = crmEvents(36_000, 18_000, 103).filter((e) => partitionOf(e.key, partitions) === 0);
    const { origin, produced: producing } = load(fleet, events);
    const produced = await producing;
    await everyPartitionCommitted(fleet, produced);
    await stopAll(replicas);

    const updates = await fleet.target.updates();
    const peaks = expectWithinQuota('all load on one partition', updates, origin);
    // The owner is whoever sent the updates: no rebalance happened, so only one replica did.
    const senders = [...peaks.byReplica.keys()];
    expect(senders).toHaveLength(1);
    // It spent the fleet's whole budget (the others, without load, reserve none of it): the
    // account's quota, not a static share. Said by the replica, so a slow machine cannot fail it.
    const owner = replicas.find((r) => r.name === senders[0]) as Replica;
    expect(logged(owner, SPENT_LOG).length).toBeGreaterThan(0);
    // And more than a third of the quota in one window: beyond any static split among three.
    expect(peaks.byReplica.get(owner.name)?.count).toBeGreaterThan(QUOTA / 3);
    await expectAllDelivered(fleet, updates, events, produced);
  }, 200_000);

  it('with local shares, the replicas stay within the quota together across three rebalances under full load', async () => {
    const partitions = 12;
    // A leaver stops within 2 s (queued updates it could not send stay uncommitted for the next owner).
    const fleet = await quotaFleet('fq-local', partitions, 'local', { shutdown_timeout_ms: 2000 });
    // Four members, then three, two and one: each departure hands its partitions to the others,
    // whose larger shares may apply only once the leaver's sends have left the window. (A member
    // joining under full load would not do: a new process cannot know what the others sent in
    // the current window, so its first share applies at once — the documented limit of local.)
    const replicas = await formedFleet(fleet, ['r1', 'r2', 'r3', 'r4']);
    const events = crmEvents(35_000, 7000, 104);
    const { origin, produced: producing } = load(fleet, events);
    await sending(fleet, QUOTA / 2);
    const departures: number[] = [];
    const kills: number[] = [];
    for (const [i, leaver] of replicas.slice(0, 3).entries()) {
      // A window between departures, so that each one meets the larger shares the one before allowed.
      if (i > 0) await sleep(WINDOW_MS + 1000);
      // Under full load: every member present is held back by its share (a slow machine takes longer to get there).
      const present = replicas.slice(i);
      await waitFor(
        `${present.map((r) => r.name).join(', ')} each held back by its share`,
        () => present.every((r) => spentWithin(r, Date.now() - WINDOW_MS, Date.now())),
        60_000,
      );
      kills.push(Date.now());
      leaver.child.kill('SIGTERM');
      expect((await exitOf(leaver.child)).code).toBe(0);
      departures.push(Date.now());
    }
    const last = replicas[3] as Replica;
    const produced = await producing;
    await everyPartitionCommitted(fleet, produced);
    await stopAll([last]);

    const updates = await fleet.target.updates();
    // A breach would come from a leaver's requests counted after the others took over its
    // partitions: their larger shares wait a window from their own assignment, not from the leaver's last send.
    const afterTakeover = kills.map((kill, i) => {
      const takeover = Math.min(
        ...replicas.slice(i + 1).map((r) => Number(r.lines().find((l) => l.msg === 'joined consumer group' && Number(l.time) > kill)?.time)),
      );
      return arrivals(updates, (replicas[i] as Replica).name).filter((t) => t >= takeover).length;
    });
    console.info(`local shares: each leaver's requests counted after the others took over its partitions: ${JSON.stringify(afterTakeover)}`);
    expectWithinQuota('local shares', updates, origin);
    // Each departure was a rebalance for the last member: 3 of 12 partitions, then 4, 6 and 12.
    expect(
      last
        .lines()
        .filter((l) => l.msg === 'joined consumer group')
        .map((l) => l.partitions)
        .slice(-4),
    ).toEqual([3, 4, 6, 12]);
    // Each came under full load: every member then present was held back by its share in the
    // window before the SIGTERM. Said by the member itself (its share spent), so a slow machine,
    // which sends fewer requests per window, cannot fail this; a member without load would.
    const sentBefore = kills.map((k, i) => replicas.slice(i).map((r) => arrivals(updates, r.name).filter((t) => t >= k - WINDOW_MS && t < k).length));
    console.info(
      `SIGTERMs at ${kills.map((k) => `+${((k - origin) / 1000).toFixed(1)} s`).join(', ')}; each member's requests in the window before: ${JSON.stringify(sentBefore)}`,
    );
    expect(kills.map((k, i) => replicas.slice(i).map((r) => [r.name, spentWithin(r, k - WINDOW_MS, k)]))).toEqual(
      kills.map((_, i) => replicas.slice(i).map((r) => [r.name, true])),
    );
    // And the last one, alone, went beyond the share it held with two members, which it could only
    // do by growing a window after the last departure: that growth was put to the test too.
    expect(busiestWindow(arrivals(updates, last.name), WINDOW_MS, departures.at(-1) as number).count).toBeGreaterThan(QUOTA / 2);
    await expectAllDelivered(fleet, updates, events, produced);
  }, 240_000);

  it('a replica SIGKILLed with reservations outstanding leaks no budget beyond one window', async () => {
    const fleet = await quotaFleet('fq-kill', 6, 'redis');
    const replicas = await formedFleet(fleet, ['r1', 'r2', 'r3']);
    const events = crmEvents(EVENTS, 3000, 105);
    const { origin, produced: producing } = load(fleet, events);
    // Killed in the middle of a burst, while it takes units from its pool and reserves more.
    const [victim, ...survivors] = replicas as [Replica, ...Replica[]];
    await sending(fleet, QUOTA / 2);
    victim.child.kill('SIGKILL');
    await exitOf(victim.child);
    const killedAt = Date.now();
    const produced = await producing;
    await everyPartitionCommitted(fleet, produced);
    await stopAll(survivors);

    const updates = await fleet.target.updates();
    expectWithinQuota('a replica killed', updates, origin);
    const times = arrivals(updates);
    const lastArrival = times.at(-1) as number;
    // Whatever the victim held is counted for window + hold at most: after that (and a second of
    // slack) the survivors, saturated, fill a whole window with the quota again; units leaked for
    // longer would keep every later window below it. The slack of two reservation batches is what
    // pools dropping unused units at the end of a burst can cost.
    const from = killedAt + WINDOW_MS + HOLD_MS + 1000;
    // The load lasted at least one full window beyond that: else there would be nothing to see.
    expect(lastArrival - WINDOW_MS).toBeGreaterThanOrEqual(from);
    const recovered = busiestWindow(times, WINDOW_MS, from, lastArrival - WINDOW_MS);
    console.info(
      `killed ${victim.name} at +${((killedAt - origin) / 1000).toFixed(1)} s; per 10 s from the kill: ${countsPerWindow(times, WINDOW_MS, killedAt).join(', ')}; ` +
        `busiest full window from window + hold after the kill: ${recovered.count} (+${((recovered.start - killedAt) / 1000).toFixed(1)} s)`,
    );
    expect(recovered.count).toBeGreaterThanOrEqual(QUOTA - 2 * RESERVATION_BATCH);
    expect(updates.some((u) => u.attributes[REPLICA_ATTRIBUTE] === victim.name)).toBe(true);
    await expectAllDelivered(fleet, updates, events, produced);
  }, 200_000);
});
