/** The lanes with both routes: order per profile across single requests and bulk rows, and the route switching with the backlog. */
import { settling } from '../../support/settling.js';
import { describe, expect, it } from 'vitest';
import { BulkRoute, type BulkApi } from '../../../connector/core/delivery/bulk-route.js';
import { CircuitBreaker } from '../../../connector/core/delivery/circuit-breaker.js';
import type { Lane } from '../../../connector/core/delivery/lanes.js';
import { OutageGate } from '../../../connector/core/delivery/outage-gate.js';
import { lanesOf } from './lanes-of.js';
import { type UpdateResult } from '../../../connector/core/delivery/send-result.js';
import { RollingQuota } from '../../../connector/core/delivery/rolling-quota.js';
import { RoutePolicy, type BulkMode } from '../../../connector/core/delivery/route-policy.js';
import { ACKNOWLEDGED } from '../../../connector/core/delivery/send-result.js';
import type { ProfileIdentity, ProfileUpdate, TargetRequest } from '../../../connector/core/profile.js';
import { RetryPolicy } from '../../../connector/core/retry.js';
import { FakeClock } from '../../support/fake-clock.js';

/** Everything Target received, in arrival order: single requests and applied bulk rows alike. */
type Arrival = { route: 'single' | 'bulk'; id: string; attributes: Record<string, string>; at: number };

function setup(mode: BulkMode, bulkDelayMs = 5000, maxBytes = 1_000_000) {
  const clock = new FakeClock();
  const arrivals: Arrival[] = [];
  /** Profiles with a row in a batch Target has not applied yet. */
  const rowPending = new Set<string>();
  const violations: string[] = [];
  const batches: Array<{ rows: Array<{ id: string; attributes: Record<string, string> }>; appliesAt: number }> = [];
  const api: BulkApi = {
    async submit(file) {
      const [header, ...lines] = file.text.trimEnd().split('\n');
      const names = (header as string).slice('batch='.length).split(',').slice(1);
      const rows = lines.map((line) => {
        const [id, ...cells] = line.split(',').map(decodeURIComponent);
        for (const other of batches)
          if (other.rows.some((r) => r.id === id) && other.appliesAt > clock.now()) violations.push(`${id} in two unfinished batches`);
        rowPending.add(id as string);
        return { id: id as string, attributes: Object.fromEntries(cells.flatMap((c, i) => (c === '' ? [] : [[names[i] as string, c]]))) };
      });
      batches.push({ rows, appliesAt: clock.now() + bulkDelayMs });
      return { kind: 'accepted', statusUrl: String(batches.length - 1) };
    },
    async status(url) {
      const batch = batches[Number(url)] as (typeof batches)[number];
      const done = clock.now() >= batch.appliesAt;
      if (done) {
        for (const row of batch.rows) {
          if (rowPending.delete(row.id)) arrivals.push({ route: 'bulk', id: row.id, attributes: row.attributes, at: batch.appliesAt });
        }
      }
      return { kind: 'report', rows: new Map(batch.rows.map((r) => [r.id, done ? 'success' : 'pending'])), unknown: [] };
    },
  };
  const send = (request: TargetRequest) =>
    new Promise<typeof ACKNOWLEDGED>((resolve) => {
      const body = JSON.parse(request.url) as { id: string; a: Record<string, string> };
      if (rowPending.has(body.id)) violations.push(`single update for ${body.id} while its row is pending`);
      clock.schedule(5, () => {
        arrivals.push({ route: 'single', id: body.id, attributes: body.a, at: clock.now() });
        resolve(ACKNOWLEDGED);
      });
    });
  const retry = new RetryPolicy({ initialMs: 20, maxMs: 1000, maxAttempts: 3, random: () => 0.5 });
  const policy = new RoutePolicy({ mode, enterLag: 1000, exitLag: 100 });
  const route = new BulkRoute<Lane>({
    api,
    clock,
    maxRows: 10_000,
    maxBytes,
    lingerMs: 200,
    readingBacklog: () => policy.readingBacklog,
    pollIntervalMs: 1000,
    statusTimeoutMs: 3_600_000,
    retry,
    gate: new OutageGate({
      breaker: new CircuitBreaker({ endpoint: 'bulk', threshold: 3, probePolicy: retry, clock }),
      endpoint: 'the Target bulk API',
      clock,
    }),
    rememberProfiles: 1000,
  });
  const lanes = lanesOf({
    concurrency: 4,
    retry,
    breaker: new CircuitBreaker({ endpoint: 'Target', threshold: 3, probePolicy: retry, clock }),
    quota: new RollingQuota(1_000_000, 86_400_000, () => clock.now()),
    clock,
    buildRequests: (u: ProfileUpdate) => [{ method: 'GET', url: JSON.stringify({ id: u.identity.value, a: u.attributes }) }],
    send,
    bulk: { route, policy },
  });
  const settled: UpdateResult[] = [];
  const submit = (id: string, attributes: Record<string, string>, identity: ProfileIdentity = { kind: 'mbox3rdPartyId', value: id }) =>
    lanes.submit(
      { identity, attributes },
      settling((r) => settled.push(r)),
    );
  return { clock, lanes, policy, arrivals, violations, settled, submit, batches };
}

describe('lanes with a bulk route', () => {
  it('hold every other update of a profile (single or bulk) until its row reports, merging them behind it', async () => {
    const t = setup('auto');
    t.policy.observe(5000, 1_000_000);
    t.submit('c1', { tier: 'BRONZE', city: 'Lund' });
    await t.clock.advance(300);
    // The route turns back to single updates while c1's row is pending.
    t.policy.observe(0, 1_000_000);
    t.submit('c1', { tier: 'SILVER' });
    t.submit('c1', { tier: 'GOLD', email: 'x@y.se' });
    t.submit('c2', { tier: 'GOLD' });
    await t.clock.until(() => t.settled.length === 4);
    expect(t.violations).toEqual([]);
    expect(t.arrivals.filter((a) => a.id === 'c1').map((a) => [a.route, a.attributes])).toEqual([
      ['bulk', { tier: 'BRONZE', city: 'Lund' }],
      ['single', { tier: 'GOLD', email: 'x@y.se' }],
    ]);
    expect(t.arrivals.find((a) => a.id === 'c2')?.route).toBe('single');
    expect(t.settled.every((r) => r.status === 'delivered')).toBe(true);
  });

  it('never put one profile in two unfinished batches; a later row carries what the earlier one set', async () => {
    const t = setup('always');
    for (let i = 0; i < 5; i++) {
      t.submit('hot', { [`a${i}`]: String(i) });
      t.submit(`cold${i}`, { n: String(i) });
      await t.clock.advance(300);
    }
    await t.clock.until(() => t.settled.length === 10);
    expect(t.violations).toEqual([]);
    const hot = t.arrivals.filter((a) => a.id === 'hot');
    expect(hot.every((a) => a.route === 'bulk')).toBe(true);
    expect(hot.at(-1)?.attributes).toEqual({ a0: '0', a1: '1', a2: '2', a3: '3', a4: '4' });
  });

  it('fold a backlog into one row per profile: 1,000 events of a hot profile and 100 others make one batch of 101 rows', async () => {
    const t = setup('always');
    t.policy.observe(100_000, 1_000_000);
    for (let i = 0; i < 1000; i++) {
      t.submit('hot', { [`a${i % 7}`]: String(i), last: String(i) });
      if (i % 10 === 0) t.submit(`cold${i / 10}`, { n: String(i) });
      // Reading the backlog takes longer than linger_ms: the open batch keeps gathering.
      if (i % 100 === 0) await t.clock.advance(150);
    }
    expect(t.batches).toHaveLength(0);
    // Read up to the end: the next linger sends the batch.
    t.policy.observe(0, 1_000_000);
    await t.clock.until(() => t.settled.length === 1100);
    expect(t.batches).toHaveLength(1);
    expect(t.batches[0]?.rows).toHaveLength(101);
    expect(t.violations).toEqual([]);
    const hot = t.arrivals.filter((a) => a.id === 'hot');
    expect(hot).toHaveLength(1);
    expect(hot[0]?.attributes).toEqual({ a0: '994', a1: '995', a2: '996', a3: '997', a4: '998', a5: '999', a6: '993', last: '999' });
    expect(t.settled.every((r) => r.status === 'delivered')).toBe(true);
  });

  it('send a second file only when the rows exceed the limits, each profile once per file, order kept', async () => {
    const t = setup('always', 5000, 400);
    t.policy.observe(100_000, 1_000_000);
    for (let i = 0; i < 30; i++) t.submit(`p${i % 10}`, { [`k${i}`]: 'x'.repeat(10) });
    t.policy.observe(0, 1_000_000);
    await t.clock.until(() => t.settled.length === 30);
    expect(t.violations).toEqual([]);
    expect(t.batches.length).toBeGreaterThanOrEqual(2);
    for (const batch of t.batches) expect(new Set(batch.rows.map((r) => r.id)).size).toBe(batch.rows.length);
    // Every profile ends with all three of its attributes, whichever file carried which.
    for (let p = 0; p < 10; p++) {
      const last = t.arrivals.filter((a) => a.id === `p${p}`).at(-1);
      expect(Object.keys(last?.attributes ?? {}).sort()).toEqual([`k${p}`, `k${p + 10}`, `k${p + 20}`].sort());
    }
  });

  it('let linger_ms bound a live stream: once caught up, an open batch goes after linger_ms without folding more', async () => {
    const t = setup('always');
    t.policy.observe(0, 1_000_000);
    t.submit('live', { n: '1' });
    await t.clock.advance(250);
    expect(t.batches).toHaveLength(1);
    t.submit('live', { n: '2' });
    await t.clock.until(() => t.settled.length === 2);
    expect(t.batches).toHaveLength(2);
    expect(t.arrivals.map((a) => a.attributes.n)).toEqual(['1', '2']);
  });

  it('park every update waiting for a bulk row — folded, or queued behind a row already sent — and none waiting behind a single request', async () => {
    const t = setup('auto');
    const parked: string[] = [];
    const settlement = (name: string) => ({
      settle: () => {},
      park: () => {
        parked.push(name);
        return false;
      },
    });
    t.policy.observe(5000, 1_000_000);
    t.lanes.submit({ identity: { kind: 'mbox3rdPartyId', value: 'b' }, attributes: { n: '1' } }, settlement('row'));
    t.lanes.submit({ identity: { kind: 'mbox3rdPartyId', value: 'b' }, attributes: { n: '2' } }, settlement('folded'));
    // Nothing joins the batch for a whole linger_ms: it goes.
    await t.clock.advance(500);
    expect(t.batches).toHaveLength(1);
    t.lanes.submit({ identity: { kind: 'mbox3rdPartyId', value: 'b' }, attributes: { n: '3' } }, settlement('queued behind the sent row'));
    t.lanes.submit({ identity: { kind: 'mbox3rdPartyId', value: 'b' }, attributes: { n: '4' } }, settlement('merged into the queue'));
    t.policy.observe(0, 1_000_000);
    t.lanes.submit({ identity: { kind: 'mbox3rdPartyId', value: 's' }, attributes: { n: '1' } }, settlement('single'));
    t.lanes.submit({ identity: { kind: 'mbox3rdPartyId', value: 's' }, attributes: { n: '2' } }, settlement('behind a single request'));
    expect(parked).toEqual(['row', 'folded', 'queued behind the sent row', 'merged into the queue']);
  });

  it('switch to bulk while far behind and back to single updates once caught up', async () => {
    const t = setup('auto');
    t.submit('a', { n: '1' });
    await t.clock.until(() => t.settled.length === 1);
    t.policy.observe(2000, 1_000_000);
    t.submit('b', { n: '1' });
    await t.clock.until(() => t.settled.length === 2);
    t.policy.observe(50, 1_000_000);
    t.submit('c', { n: '1' });
    await t.clock.until(() => t.settled.length === 3);
    expect(t.arrivals.map((a) => `${a.id}:${a.route}`)).toEqual(['a:single', 'b:bulk', 'c:single']);
  });

  it('keep mboxPC profiles on single updates, even in always mode', async () => {
    const t = setup('always');
    t.submit('pc-1', { n: '1' }, { kind: 'mboxPC', value: 'pc-1' });
    await t.clock.until(() => t.settled.length === 1);
    expect(t.arrivals.map((a) => a.route)).toEqual(['single']);
  });
});

describe('RoutePolicy', () => {
  it('turns bulk on at enter_lag or when the quota would run out first, and off at exit_lag', () => {
    const changes: boolean[] = [];
    const p = new RoutePolicy({ mode: 'auto', enterLag: 1000, exitLag: 100 });
    p.onChange((b) => changes.push(b));
    p.observe(999, 1_000_000);
    expect(p.bulk).toBe(false);
    p.observe(1000, 1_000_000);
    expect(p.bulk).toBe(true);
    p.observe(500, 1_000_000);
    expect(p.bulk).toBe(true);
    p.observe(100, 1_000_000);
    expect(p.bulk).toBe(false);
    // 500 behind and only 300 requests left in the quota window: single updates could not clear it.
    p.observe(500, 300);
    expect(p.bulk).toBe(true);
    p.observe(100, 300);
    expect(p.bulk).toBe(false);
    expect(changes).toEqual([true, false, true, false]);
    const always = new RoutePolicy({ mode: 'always', enterLag: 1000, exitLag: 100 });
    always.observe(0, 0);
    expect(always.bulk).toBe(true);
    expect(always.readingBacklog).toBe(false);
    always.observe(101, 0);
    expect(always.readingBacklog).toBe(true);
    always.observe(100, 0);
    expect(always.readingBacklog).toBe(false);
    const off = new RoutePolicy({ mode: 'off', enterLag: 1000, exitLag: 100 });
    off.observe(1_000_000, 0);
    expect(off.bulk).toBe(false);
  });
});
