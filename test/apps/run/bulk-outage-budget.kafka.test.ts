/**
 * `delivery.outage_budget_ms` bounds an outage of the bulk endpoint as it does the single one's:
 * `backfill` and `run` (bulk.mode always) against a bulk endpoint that stays down end non-zero,
 * commit nothing past the first unacknowledged event, and dead-letter nothing.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deadLetterCount, runChild } from '../../support/child-run.js';
import {
  allCommitted,
  committedOffsets,
  createTestTopics,
  deliveriesPerEvent,
  exitOf,
  produceEvents,
  ROOT,
  sampleEvents,
  TestResources,
  uncoveredBelowCommit,
  waitFor,
  writeWorkspace,
} from '../../support/delivery-harness.js';
import { uniqueTopic } from '../../support/kafka.js';

const resources = new TestResources();
afterEach(() => resources.closeAll());

/** A short budget, and batches that go one after another: the outage starts with part of the stream delivered. */
const DELIVERY = {
  outage_budget_ms: 8000,
  max_backoff_ms: 1000,
  bulk: { mode: 'always', linger_ms: 100, poll_interval_ms: 200, max_pending: 100 },
};

/** Starts `backfill` as a child that is killed after the test whatever happens; collects its log lines. */
function backfillChild(config: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'connector/cli/main.ts'), 'backfill', '--config', config], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_ENV: 'test' },
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.resume();
  resources.add(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exitOf(child);
    }
  });
  return { child, log: () => stderr };
}

describe('an outage of the bulk endpoint', () => {
  for (const command of ['backfill', 'run'] as const) {
    it(`outlasting the budget ends ${command} non-zero, committing nothing past the first undelivered event, dead-lettering nothing`, async () => {
      const topics = await createTestTopics(uniqueTopic(`bulkbudget-${command}`), 2);
      const events = sampleEvents(3000, 600, command === 'run' ? 101 : 102);
      const produced = await produceEvents(topics, events, 2);
      const target = await resources.sandbox({ bulkDelayMs: 300 });
      const groupId = `${topics.prefix}.g`;
      const config = writeWorkspace({ topics, targetUrl: target.url, groupId, delivery: DELIVERY });
      const started = command === 'run' ? runChild(resources, config) : backfillChild(config);
      await waitFor('a batch applied', () => target.batches().some((b) => b.statuses.pending === 0), 60_000, 20);
      // The bulk endpoint (submits and status alike) goes down for good.
      target.setFaults({ failRate: 1 });
      const { code, signal } = await exitOf(started.child);
      expect(signal).toBeNull();
      expect(code).not.toBe(0);
      const log = 'lines' in started ? JSON.stringify(started.lines()) : started.log();
      expect(log).toContain('OUTAGE_BUDGET_EXHAUSTED');

      const committed = await committedOffsets(groupId, topics.all);
      const seen = new Set(deliveriesPerEvent(target.updates()).keys());
      expect(uncoveredBelowCommit(produced, committed, seen)).toEqual([]);
      expect(await allCommitted(groupId, produced)).toBe(false);
      expect(await deadLetterCount(topics.deadLetter)).toBe(0);
    }, 120_000);
  }
});
