import { describe, expect, it } from 'vitest';
import { AckTracker, type AckCommit } from '../../../connector/core/acks/ack-tracker.js';
import { CommitPolicy } from '../../../connector/core/acks/commit-policy.js';
import { FakeClock } from '../../support/fake-clock.js';

function setup(intervalMs = 1000, threshold = 10) {
  const clock = new FakeClock();
  const tracker = new AckTracker();
  tracker.assign([{ stream: 'a', partition: 0 }]);
  const sent: AckCommit[][] = [];
  let refuse: Error | undefined;
  const failures: unknown[] = [];
  let committedCalls = 0;
  const policy = new CommitPolicy({
    tracker,
    commit: async (commits) => {
      if (refuse) throw refuse;
      sent.push(commits);
    },
    intervalMs,
    threshold,
    clock,
    observer: { failed: (e) => failures.push(e) },
  });
  policy.onCommitted(() => committedCalls++);
  const ackUpTo = (n: number) => {
    for (let o = 0; o < n; o++) {
      const token = tracker.track('a', 0, o);
      if (token) {
        tracker.ack(token);
        policy.acked();
      }
    }
  };
  return {
    clock,
    tracker,
    policy,
    sent,
    failures,
    ackUpTo,
    refuseWith: (e: Error | undefined) => (refuse = e),
    committedCalls: () => committedCalls,
  };
}

describe('CommitPolicy', () => {
  it('commits the acknowledged prefix on its interval, and only when it advanced', async () => {
    const t = setup();
    t.policy.start();
    t.ackUpTo(3);
    await t.clock.advance(999);
    expect(t.sent).toEqual([]);
    await t.clock.advance(1);
    expect(t.sent).toEqual([[{ stream: 'a', partition: 0, offset: '3' }]]);
    await t.clock.advance(5000);
    expect(t.sent).toHaveLength(1);
    expect(t.tracker.uncommitted()).toBe(0);
    expect(t.committedCalls()).toBe(1);
    t.policy.stop();
  });

  it('commits early once the threshold of acknowledgements is reached', async () => {
    const t = setup(60_000, 5);
    t.policy.start();
    t.ackUpTo(5);
    await t.clock.advance(0);
    expect(t.sent).toEqual([[{ stream: 'a', partition: 0, offset: '5' }]]);
    t.policy.stop();
  });

  it('commits at every acknowledgement without an interval (Airbyte STATE)', async () => {
    const t = setup(0, 1);
    t.ackUpTo(1);
    await t.clock.advance(0);
    t.ackUpTo(2);
    await t.clock.advance(0);
    expect(t.sent.map((c) => c[0]?.offset)).toEqual(['1', '2']);
  });

  it('drops a commit decided under an assignment that changed before it was sent', async () => {
    const t = setup();
    t.ackUpTo(2);
    const flushing = t.policy.flush();
    t.tracker.assign([{ stream: 'a', partition: 0 }]);
    await flushing;
    expect(t.sent).toEqual([]);
  });

  it('on revoke sends what is acknowledged before ownership ends, then commits nothing more', async () => {
    const t = setup();
    t.ackUpTo(4);
    t.policy.beforeRevoke();
    t.tracker.revokeAll();
    expect(t.tracker.owns('a', 0)).toBe(false);
    await t.clock.advance(0);
    expect(t.sent).toEqual([[{ stream: 'a', partition: 0, offset: '4' }]]);
    await t.policy.flush();
    expect(t.sent).toHaveLength(1);
  });

  it('reports a failed commit and carries its offsets in the next one', async () => {
    const t = setup();
    t.ackUpTo(2);
    t.refuseWith(new Error('coordinator moved'));
    await t.policy.flush();
    expect(t.failures).toHaveLength(1);
    expect(t.tracker.uncommitted()).toBe(2);
    t.refuseWith(undefined);
    await t.policy.flush();
    expect(t.sent).toEqual([[{ stream: 'a', partition: 0, offset: '2' }]]);
    expect(t.tracker.uncommitted()).toBe(0);
  });
});
