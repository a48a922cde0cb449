/**
 * While Target processes a batch nothing settles: `backfill` says what it waits for (the batch,
 * its rows still pending at Target, the next status poll) and no ETA until Target reports rows;
 * stopped by SIGTERM it says how to resume, and a second `backfill` sends the uncommitted rows.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackfillSummary } from '../../../connector/apps/backfill/backfill.js';
import { WAITING_FOR_REPORT } from '../../../connector/observe/backfill-progress.js';
import type { SampleEvent } from '../../../connector/tools/sample-events.js';
import {
  allCommitted,
  createTestTopics,
  exitOf,
  expectedEffect,
  expectedProfiles,
  produceEvents,
  profilesOf,
  ROOT,
  sampleEvents,
  TestResources,
  waitFor,
  writeWorkspace,
} from '../../support/delivery-harness.js';
import { watchChild } from '../../support/child-run.js';
import { uniqueTopic } from '../../support/kafka.js';

const resources = new TestResources();
afterEach(() => resources.closeAll());

/** Rows of the one batch: one event per profile, each with an effect, so that every event is one row of the first batch. */
const ROWS = 40;

/** `ROWS` events for `ROWS` distinct profiles, each changing its profile. */
function onePerProfile(seed: number): SampleEvent[] {
  const seen = new Set<string>();
  const picked = sampleEvents(2000, 1000, seed).filter((e) => expectedEffect(e) !== undefined && !seen.has(e.key) && seen.add(e.key));
  return picked.slice(0, ROWS);
}

/** One batch for the whole backlog (a long linger), polled from a second after its acceptance. */
const ONE_BATCH = { mode: 'always', linger_ms: 2000, poll_interval_ms: 1000 };

/** Starts `backfill` with a progress line every second; killed after the test whatever happens. */
function backfillChild(config: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'connector/cli/main.ts'), 'backfill', '--config', config, '--progress-every', '1'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'test' },
  });
  const { lines, stdout } = watchChild(resources, child);
  return { child, lines, progress: () => lines().filter((l) => l.msg === 'progress'), summary: () => JSON.parse(stdout()) as BackfillSummary };
}

/** A progress line while the one batch is at Target and no row of it has been reported. */
const waitingForTarget = (l: Record<string, unknown>) =>
  l.batches === 1 && l.batchesPending === 1 && l.rowsPending === ROWS && l.rowsReported === 0 && l.eta === WAITING_FOR_REPORT;

describe('backfill while Target processes its batch', () => {
  it('logs the batch pending at Target, its rows and the next poll, with no ETA until Target reports; then completes', async () => {
    const topics = await createTestTopics(uniqueTopic('bfprogress'), 1);
    const events = onePerProfile(191);
    const produced = await produceEvents(topics, events, 1);
    const target = await resources.sandbox({ bulkDelayMs: 4000 });
    const groupId = `${topics.prefix}.g`;
    const config = writeWorkspace({ topics, targetUrl: target.url, groupId, delivery: { bulk: ONE_BATCH } });
    const run = backfillChild(config);
    expect((await exitOf(run.child)).code).toBe(0);
    const waiting = run.progress().filter(waitingForTarget);
    expect(waiting.length).toBeGreaterThan(0);
    // The next poll: the first a second after acceptance, then two, then four (the backoff).
    for (const l of waiting) expect(l.nextPollInSeconds).toBeOneOf([0, 1, 2, 3, 4]);
    expect(waiting.every((l) => l.settled === 0 && l.etaSeconds === undefined)).toBe(true);
    expect(run.summary()).toMatchObject({ events: ROWS, batches: 1, rows: ROWS, deadLettered: 0 });
    expect(await allCommitted(groupId, produced)).toBe(true);
    expect(target.batches()).toHaveLength(1);
  }, 60_000);

  it('stopped by SIGTERM, it commits nothing Target has not reported, says how to resume, and a second backfill sends the rows again', async () => {
    const topics = await createTestTopics(uniqueTopic('bfresume'), 1);
    const events = onePerProfile(192);
    const produced = await produceEvents(topics, events, 1);
    // A Target that takes a minute: the batch is still pending when the signal comes.
    const slow = await resources.sandbox({ bulkDelayMs: 60_000 });
    const groupId = `${topics.prefix}.g`;
    const delivery = { bulk: ONE_BATCH, shutdown_timeout_ms: 500 };
    const first = backfillChild(writeWorkspace({ topics, targetUrl: slow.url, groupId, delivery }));
    await waitFor('a progress line with the batch pending at Target', () => first.progress().some(waitingForTarget), 30_000);
    first.child.kill('SIGTERM');
    expect((await exitOf(first.child)).code).toBe(1);
    const stopped = first.lines().find((l) => String(l.msg).startsWith('backfill interrupted before the end'));
    expect(stopped).toMatchObject({ signal: 'SIGTERM', settled: 0, rowsPending: ROWS, batchesPending: 1 });
    expect(String(stopped?.msg)).toContain(
      'run backfill again (it starts from the committed offsets, --from committed): it re-sends only the rows whose events are not committed',
    );
    expect(await allCommitted(groupId, produced)).toBe(false);
    // Resumed against a Target that processes quickly: every row of the uncommitted events goes again.
    const quick = await resources.sandbox({ bulkDelayMs: 200 });
    const second = backfillChild(writeWorkspace({ topics, targetUrl: quick.url, groupId, delivery }));
    expect((await exitOf(second.child)).code).toBe(0);
    expect(second.summary()).toMatchObject({ events: ROWS, rows: ROWS, batches: 1 });
    expect(await allCommitted(groupId, produced)).toBe(true);
    const expected = expectedProfiles(events);
    expect(profilesOf(quick, expected.keys())).toEqual(expected);
  }, 90_000);
});
