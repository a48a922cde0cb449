import { describe, expect, it } from 'vitest';
import { UpdateLog } from '../../../connector/tools/sandbox/update-log.js';

const alice = { kind: 'mbox3rdPartyId' as const, value: 'alice' };
const pc = { kind: 'mboxPC' as const, value: 'pc.1' };

describe('UpdateLog', () => {
  it('returns every field of every update in arrival order', () => {
    const log = new UpdateLog(true);
    // An own `__proto__` attribute must survive as data, not become a prototype.
    const attributes = JSON.parse('{"city":"Malmö","__proto__":"x"}') as Record<string, string>;
    expect(log.append(alice, attributes, 'GET', true, Date.UTC(2026, 0, 1))).toBe(0);
    expect(log.append(pc, {}, 'POST', false, Date.UTC(2026, 0, 2))).toBe(1);
    expect(log.list()).toEqual([
      { index: 0, identity: alice, attributes, method: 'GET', route: 'single', applied: true, receivedAt: '2026-01-01T00:00:00.000Z' },
      { index: 1, identity: pc, attributes: {}, method: 'POST', route: 'single', applied: false, receivedAt: '2026-01-02T00:00:00.000Z' },
    ]);
  });

  it('records bulk rows with their batch id between single updates, and filters them by identity', () => {
    const log = new UpdateLog(true);
    log.append(alice, { a: '1' }, 'GET', true, 1);
    expect(log.appendBulkRow(alice, ['a', 'b'], ['2', 'två'], 2, 'batch-7')).toBe(1);
    log.appendBulkRow(pc, ['a'], ['3'], 2, 'batch-8');
    log.append(alice, { a: '4' }, 'POST', true, 3);
    expect(log.list({ identity: alice })).toEqual([
      { index: 0, identity: alice, attributes: { a: '1' }, method: 'GET', route: 'single', applied: true, receivedAt: new Date(1).toISOString() },
      {
        index: 1,
        identity: alice,
        attributes: { a: '2', b: 'två' },
        method: 'BULK',
        route: 'bulk',
        batchId: 'batch-7',
        applied: true,
        receivedAt: new Date(2).toISOString(),
      },
      { index: 3, identity: alice, attributes: { a: '4' }, method: 'POST', route: 'single', applied: true, receivedAt: new Date(3).toISOString() },
    ]);
    expect(log.list({ identity: pc })).toMatchObject([{ method: 'BULK', batchId: 'batch-8' }]);
    expect(log.list()[0]).not.toHaveProperty('batchId');
  });

  it('filters by identity and pages with from and limit', () => {
    const log = new UpdateLog(true);
    for (let i = 0; i < 10; i++) log.append(i % 2 === 0 ? alice : pc, { n: String(i) }, 'GET', true, i);
    expect(log.list({ identity: alice }).map((u) => u.attributes.n)).toEqual(['0', '2', '4', '6', '8']);
    expect(log.list({ from: 3, limit: 2 }).map((u) => u.index)).toEqual([3, 4]);
    expect(log.list({ identity: pc, from: 4, limit: 2 }).map((u) => u.index)).toEqual([5, 7]);
  });

  it('keeps every entry intact as its storage grows, multi-byte text included', () => {
    const log = new UpdateLog(true);
    const value = (i: number) => `${i}:${'åäö🎉'.repeat(i % 50)}`;
    for (let i = 0; i < 5_000; i++) log.append({ kind: 'mboxPC', value: `pc.${i % 7}` }, { [`n${i % 3}`]: value(i) }, 'POST', true, i);
    const all = log.list();
    expect(all).toHaveLength(5_000);
    all.forEach((u, i) => expect(u).toMatchObject({ index: i, identity: { value: `pc.${i % 7}` }, attributes: { [`n${i % 3}`]: value(i) } }));
  });

  it('returns nothing for an identity it never saw', () => {
    const log = new UpdateLog(true);
    log.append(alice, { a: '1' }, 'GET', true, 0);
    expect(log.list({ identity: { kind: 'mboxPC', value: 'alice' } })).toEqual([]);
  });

  it('only counts when not recording', () => {
    const log = new UpdateLog(false);
    log.append(alice, { a: '1' }, 'GET', true, 0);
    log.append(alice, { a: '2' }, 'GET', true, 0);
    log.appendBulkRow(alice, ['a'], ['3'], 0, 'batch-1');
    expect(log.total).toBe(3);
    expect(log.list()).toEqual([]);
  });

  it('restarts indexes after clear', () => {
    const log = new UpdateLog(true);
    log.append(alice, {}, 'GET', true, 0);
    log.clear();
    expect(log.total).toBe(0);
    expect(log.append(alice, {}, 'GET', true, 0)).toBe(0);
    expect(log.list()).toHaveLength(1);
  });
});
