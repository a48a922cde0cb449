import { afterEach, describe, expect, it } from 'vitest';
import { RunStats } from '../../../connector/observe/run-stats.js';
import type { RunningSink } from '../../../connector/apps/common/kafka-sink.js';
import type { SandboxOptions } from '../../../connector/tools/sandbox/options.js';
import {
  allCommitted,
  committedOffsets,
  createTestTopics,
  deliveriesPerEvent,
  eventIdAttribute,
  exitOf,
  expectedProfiles,
  produceEvents,
  profilesOf,
  sampleEvents,
  spawnRun,
  startTestSink,
  type TestSinkHooks,
  TestResources,
  uncoveredBelowCommit,
  waitFor,
  writeWorkspace,
} from '../../support/delivery-harness.js';
import { uniqueTopic } from '../../support/kafka.js';

const resources = new TestResources();
afterEach(() => resources.closeAll());
const sandbox = (options?: SandboxOptions) => resources.sandbox(options);

async function sink(configPath: string, extra: TestSinkHooks = {}, stats = new RunStats()): Promise<RunningSink> {
  const running = await startTestSink(configPath, stats, extra);
  let stopped = false;
  resources.add(async () => {
    if (!stopped) await running.stop();
  });
  return {
    ...running,
    stop: async () => {
      stopped = true;
      return running.stop();
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('resilience', () => {
  it('loses nothing when the process is SIGKILLed three times mid-stream', async () => {
    const topics = await createTestTopics(uniqueTopic('crash'), 6);
    const events = sampleEvents(20_000, 5000, 31);
    const produced = await produceEvents(topics, events, 6);
    const target = await sandbox({ latencyMs: 3 });
    const groupId = `${topics.prefix}.g`;
    const maxPending = 1000;
    const concurrency = 16;
    const config = writeWorkspace({ topics, targetUrl: target.url, groupId, delivery: { max_pending: maxPending, concurrency } });

    const kills: number[] = [];
    for (let crash = 0; crash < 3; crash++) {
      const child = spawnRun(config);
      const before = target.stats().updates;
      // a random moment once this run delivers: between 300 and 1,500 further updates
      const moment = before + 300 + Math.floor(Math.random() * 1200);
      await waitFor(`run ${crash} to deliver`, () => target.stats().updates >= moment || child.exitCode !== null, 60_000, 10);
      kills.push(target.stats().updates);
      child.kill('SIGKILL');
      await exitOf(child);
    }
    const last = spawnRun(config, ['--exit-when-idle']);
    const { code } = await exitOf(last);
    expect(code).toBe(0);
    expect(await allCommitted(groupId, produced)).toBe(true);

    const expected = expectedProfiles(events);
    expect(profilesOf(target, expected.keys())).toEqual(expected);
    const duplicates = [...deliveriesPerEvent(target.updates()).values()].reduce((sum, n) => sum + n - 1, 0);
    console.info(`crash test: killed after ${kills.join(', ')} updates; ${duplicates} duplicate deliveries (bound ${3 * (maxPending + concurrency)})`);
    expect(duplicates).toBeLessThanOrEqual(3 * (maxPending + concurrency));
  }, 240_000);

  it('rides out a fault storm without loss, dead letters, or a commit past an unacknowledged event', async () => {
    const topics = await createTestTopics(uniqueTopic('storm'), 4);
    const events = sampleEvents(6000, 1500, 41);
    const produced = await produceEvents(topics, events, 4);
    const target = await sandbox({ failRate: 0.3, rate429: 0.05, retryAfterSeconds: 1, resetRate: 0.05 });
    const groupId = `${topics.prefix}.g`;
    const stats = new RunStats();
    await sink(writeWorkspace({ topics, targetUrl: target.url, groupId, delivery: { max_attempts: 30 } }), {}, stats);

    // At least 6 s and 12 checks of the commit invariant, however slow a loaded machine makes each check.
    const stormEnds = Date.now() + 6000;
    let checks = 0;
    while (Date.now() < stormEnds || checks < 12) {
      const committed = await committedOffsets(groupId, topics.all);
      const seen = new Set(deliveriesPerEvent(target.updates()).keys());
      expect(uncoveredBelowCommit(produced, committed, seen)).toEqual([]);
      checks++;
      await sleep(250);
    }
    target.setFaults({ failRate: 0, rate429: 0, resetRate: 0 });
    await waitFor('every partition committed', () => allCommitted(groupId, produced), 90_000, 250);

    const byStatus = target.stats().byStatus;
    expect((byStatus['503'] ?? 0) + (byStatus['429'] ?? 0)).toBeGreaterThan(50);
    expect(target.stats().resets).toBeGreaterThan(5);
    expect(stats.summary().deadLettered).toBe(0);
    expect(stats.summary().retries).toBeGreaterThan(50);
    const expected = expectedProfiles(events);
    expect(profilesOf(target, expected.keys())).toEqual(expected);
  }, 150_000);

  it('hands partitions over when a second member joins and leaves, never committing what it does not own', async () => {
    const topics = await createTestTopics(uniqueTopic('rebalance'), 6);
    const events = sampleEvents(12_000, 3000, 51);
    const produced = await produceEvents(topics, events, 6);
    const target = await sandbox({ latencyMs: 2 });
    const groupId = `${topics.prefix}.g`;
    const config = writeWorkspace({ topics, targetUrl: target.url, groupId, delivery: { concurrency: 8 } });

    const violations: string[] = [];
    const watch = (name: string): TestSinkHooks => {
      let owned = new Set<string>();
      return {
        source: { assigned: (partitions) => (owned = new Set(partitions.map((p) => `${p.topic}|${p.partition}`))) },
        // Checked when the commit is sent: it carries that moment's generation, and the broker
        // refuses it if the group moved on, so ownership then is what matters.
        commits: {
          committing: (commits) => {
            for (const c of commits) if (!owned.has(`${c.stream}|${c.partition}`)) violations.push(`${name} committed ${c.stream}[${c.partition}]`);
          },
        },
      };
    };
    await sink(config, watch('first'));
    await waitFor('first member to deliver', () => target.stats().updates > 500, 60_000, 20);
    const second = await sink(config, watch('second'));
    await waitFor('second member to deliver', () => target.stats().updates > 3000, 60_000, 20);
    await second.stop();
    await waitFor('every partition committed', () => allCommitted(groupId, produced), 120_000, 250);

    expect(violations).toEqual([]);
    const expected = expectedProfiles(events);
    expect(profilesOf(target, expected.keys())).toEqual(expected);
  }, 180_000);

  it('exits 0 on SIGTERM after draining, and a restart re-delivers nothing acknowledged', async () => {
    const topics = await createTestTopics(uniqueTopic('sigterm'), 3);
    const events = sampleEvents(8000, 2000, 61);
    const produced = await produceEvents(topics, events, 3);
    const target = await sandbox({ latencyMs: 3 });
    const groupId = `${topics.prefix}.g`;
    const config = writeWorkspace({ topics, targetUrl: target.url, groupId, delivery: { shutdown_timeout_ms: 10_000 } });

    // --exit-when-idle as in a backfill: its idle watcher must not keep the process alive either.
    const child = spawnRun(config, ['--exit-when-idle']);
    await waitFor('delivery to start', () => target.stats().updates > 800, 60_000, 10);
    const signalled = Date.now();
    child.kill('SIGTERM');
    const { code } = await Promise.race([
      exitOf(child),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('run did not exit within 20 s of SIGTERM')), 20_000)),
    ]);
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(15_000);

    const committed = await committedOffsets(groupId, topics.all);
    const beforeRestart = target.updates().length;
    const restart = spawnRun(config, ['--exit-when-idle']);
    expect((await exitOf(restart)).code).toBe(0);

    const acknowledgedIds = new Set(
      produced.filter((p) => p.offset < (committed.get(`${p.topic}|${p.partition}`) ?? 0)).map((p) => eventIdAttribute(p.event).value),
    );
    const redelivered = [...deliveriesPerEvent(target.updates().slice(beforeRestart)).keys()].filter((id) => acknowledgedIds.has(id));
    expect(acknowledgedIds.size).toBeGreaterThan(0);
    expect(redelivered).toEqual([]);
    const expected = expectedProfiles(events);
    expect(profilesOf(target, expected.keys())).toEqual(expected);
  }, 120_000);
});
