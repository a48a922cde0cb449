import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { SandboxOptions } from '../../../connector/tools/sandbox/options.js';
import type { Sandbox } from '../../../connector/tools/sandbox/server.js';
import { call, getJson, postJson, type Reply } from './http-client.js';
import { updateUrl, useSandboxes } from './sandbox-fixture.js';

const startSandbox = useSandboxes();
const T0 = Date.UTC(2026, 0, 1, 12);
const XML = 'application/xml; charset=utf-8';

/** A sandbox on a fake clock that only moves when the test says so. */
async function start(options: SandboxOptions = {}): Promise<{ sandbox: Sandbox; advance: (ms: number) => void }> {
  let now = T0;
  const sandbox = await startSandbox({ bulkDelayMs: 1000, clock: () => now, ...options });
  return { sandbox, advance: (ms) => (now += ms) };
}

function submit(sandbox: Sandbox, lines: string[], client = 'acme'): Promise<Reply> {
  return call('POST', `${sandbox.url}/m2/${client}/v2/profile/batchUpdate`, { body: `${lines.join('\n')}\n` });
}

function poll(sandbox: Sandbox, batchId: string, client = 'acme'): Promise<Reply> {
  return call('GET', `${sandbox.url}/m2/${client}/v2/profile/batchStatus?batchId=${encodeURIComponent(batchId)}`);
}

function refused(message: string): string {
  return `<response><success>false</success><message>${message}</message></response>`;
}

function statuses(batchId: string, rows: [string, string][]): string {
  return `<response><batchId>${batchId}</batchId>${rows.map(([id, status]) => `<profile><id>${id}</id><status>${status}</status></profile>`).join('')}</response>`;
}

/** A row of URL-encoded cells. */
function row(...cells: string[]): string {
  return cells.map(encodeURIComponent).join(',');
}

describe('bulk batchUpdate and batchStatus', () => {
  it('accepts a file, reports pending until the delay has passed, then applies it and reports success', async () => {
    const { sandbox, advance } = await start();
    const reply = await submit(sandbox, ['batch=thirdPartyId,city,tier', row('c-1', 'Malmö, Skåne', 'gold'), row('c-2', '', 'silver')]);
    expect(reply).toMatchObject({
      status: 200,
      headers: { 'content-type': XML },
      text: `<response><success>true</success><batchStatus>${sandbox.url}/m2/acme/v2/profile/batchStatus?batchId=batch-1</batchStatus><message>Batch submitted for processing</message></response>`,
    });

    expect(await poll(sandbox, 'batch-1')).toMatchObject({
      status: 200,
      headers: { 'content-type': XML },
      text: '<response><batchId>batch-1</batchId><profile><id>c-1</id><status>pending</status></profile><profile><id>c-2</id><status>pending</status></profile></response>',
    });
    expect(sandbox.profile('mbox3rdPartyId', 'c-1')).toBeUndefined();

    advance(999);
    expect((await poll(sandbox, 'batch-1')).text).toContain('<status>pending</status>');
    advance(1);
    expect((await poll(sandbox, 'batch-1')).text).toBe(
      '<response><batchId>batch-1</batchId><profile><id>c-1</id><status>success</status></profile><profile><id>c-2</id><status>success</status></profile></response>',
    );
    // v2 creates profiles that do not exist, although single updates are update-only here.
    expect(sandbox.profile('mbox3rdPartyId', 'c-1')).toEqual({ city: 'Malmö, Skåne', tier: 'gold' });
    expect(sandbox.profile('mbox3rdPartyId', 'c-2')).toEqual({ tier: 'silver' });
    const readBack = await getJson(`${sandbox.url}/rest/v1/profiles/thirdPartyId/c-1?client=acme`);
    expect(readBack.json).toEqual({
      profileAttributes: {
        city: { value: 'Malmö, Skåne', modifiedAt: new Date(T0 + 1000).toISOString() },
        tier: { value: 'gold', modifiedAt: new Date(T0 + 1000).toISOString() },
      },
    });
  });

  it('round-trips encoded commas, percent signs, ampersands, plus signs, newlines, Swedish letters and emoji', async () => {
    const { sandbox, advance } = await start({ bulkDelayMs: 0 });
    const values = { a: '1,2', b: '100%', c: 'Ek & Ask', d: '1+1', e: 'rad 1\nrad 2', f: 'Åsa Öberg, Ängelholm', g: '🎉 👍🏽 👨‍👩‍👧' };
    const reply = await submit(sandbox, [`batch=thirdPartyId,${Object.keys(values).join(',')}`, row('Åsa@example.com', ...Object.values(values))]);
    expect(reply.status).toBe(200);
    advance(0);
    expect(sandbox.profile('mbox3rdPartyId', 'Åsa@example.com')).toEqual(values);
  });

  it('accepts the literal /m2/client/ path and links batchStatus on the same path', async () => {
    const { sandbox } = await start();
    const reply = await submit(sandbox, ['batch=pcId,a', 'pc.1_0,1'], 'client');
    expect(reply.text).toContain(`<batchStatus>${sandbox.url}/m2/client/v2/profile/batchStatus?batchId=batch-1</batchStatus>`);
    expect((await poll(sandbox, 'batch-1', 'client')).status).toBe(200);
  });

  it('applies pcId rows to mboxPC profiles', async () => {
    const { sandbox, advance } = await start();
    await submit(sandbox, ['batch=pcId,a', 'pc.1_0,1']);
    advance(1000);
    expect(sandbox.profile('mboxPC', 'pc.1_0')).toEqual({ a: '1' });
    expect(sandbox.profile('mbox3rdPartyId', 'pc.1_0')).toBeUndefined();
  });

  it('escapes ids in the status XML', async () => {
    const { sandbox, advance } = await start();
    await submit(sandbox, ['batch=thirdPartyId,a', row(`a&b<c>"d'`, '1')]);
    advance(1000);
    expect((await poll(sandbox, 'batch-1')).text).toBe(statuses('batch-1', [[`a&amp;b&lt;c&gt;"d'`, 'success']]));
  });

  it('refuses a malformed file with 400, success false and where it is wrong, and keeps nothing', async () => {
    const { sandbox, advance } = await start();
    const reply = await submit(sandbox, ['batch=thirdPartyId,a,b', 'c-1,1,2', 'c-2,1']);
    expect(reply).toMatchObject({
      status: 400,
      headers: { 'content-type': XML },
      text: refused('line 3: row has 2 cells, the header has 3'),
    });
    const noHeader = await submit(sandbox, ['thirdPartyId,a', 'c-1,1']);
    expect(noHeader.text).toBe(refused('line 1: the batch file must start with the header batch=thirdPartyId,&lt;name&gt;,… or batch=pcId,&lt;name&gt;,…'));
    advance(5000);
    expect(sandbox.batches()).toEqual([]);
    expect(sandbox.stats()).toMatchObject({ bulkRequests: 2, bulkByStatus: { '400': 2 }, bulkBatches: 0, profiles: 0 });
  });

  it('refuses a body that is not form-encoded with 415', async () => {
    const { sandbox } = await start();
    const reply = await call('POST', `${sandbox.url}/m2/acme/v2/profile/batchUpdate`, {
      body: 'batch=thirdPartyId,a\nc,1\n',
      contentType: 'text/csv',
    });
    expect(reply).toMatchObject({
      status: 415,
      text: refused('the batch file must be sent as application/x-www-form-urlencoded (curl --data-binary)'),
    });
  });

  it('refuses a file over the size limit with 413 naming its size, and one over the row limit naming its rows', async () => {
    const { sandbox } = await start({ bulkMaxBytes: 30, bulkMaxRows: 2 });
    const big = await submit(sandbox, ['batch=thirdPartyId,a', 'c-1,1', `c-2,${'x'.repeat(20)}`]);
    expect(big).toMatchObject({ status: 413, text: refused('batch file is 52 bytes; it must be smaller than 30 bytes') });
    const many = await submit(sandbox, ['batch=thirdPartyId', 'a', 'b', 'c']);
    expect(many).toMatchObject({ status: 413, text: refused('batch file has 3 rows; at most 2 are allowed') });
    expect((await submit(sandbox, ['batch=thirdPartyId', 'a', 'b'])).status).toBe(200);
  });

  it('answers 404 for another client code, 405 for the wrong method, and 404 or 400 for unknown or missing batch ids', async () => {
    const { sandbox } = await start();
    expect(await submit(sandbox, ['batch=thirdPartyId,a', 'c,1'], 'other')).toMatchObject({ status: 404, text: refused('unknown client code') });
    expect(await call('GET', `${sandbox.url}/m2/acme/v2/profile/batchUpdate`)).toMatchObject({ status: 405, text: refused('use POST') });
    expect(await poll(sandbox, 'batch-1', 'other')).toMatchObject({ status: 404, text: refused('unknown client code') });
    expect(await poll(sandbox, 'batch-9')).toMatchObject({ status: 404, headers: { 'content-type': XML }, text: refused('unknown batchId "batch-9"') });
    expect(await call('GET', `${sandbox.url}/m2/acme/v2/profile/batchStatus`)).toMatchObject({
      status: 400,
      text: refused('the batchId query parameter is required'),
    });
    expect((await call('POST', `${sandbox.url}/m2/acme/v2/profile/batchStatus?batchId=batch-1`, { body: 'x' })).status).toBe(405);
  });
});

describe('bulk override rule', () => {
  it('a later batch removes the attributes the earlier batch set that its row does not carry', async () => {
    const { sandbox, advance } = await start();
    sandbox.seedProfile({ kind: 'mbox3rdPartyId', value: 'c-1' }, { seeded: 'yes' });
    await submit(sandbox, ['batch=thirdPartyId,a,b', 'c-1,1,1', 'c-2,1,1']);
    advance(1000);
    await submit(sandbox, ['batch=thirdPartyId,a,b,c', 'c-1,2,,2']);
    advance(1000);
    expect(sandbox.profile('mbox3rdPartyId', 'c-1')).toEqual({ seeded: 'yes', a: '2', c: '2' });
    expect(sandbox.profile('mbox3rdPartyId', 'c-2')).toEqual({ a: '1', b: '1' });
  });

  it('applies the rule between rows of one batch too, in file order', async () => {
    const { sandbox, advance } = await start();
    await submit(sandbox, ['batch=thirdPartyId,a,b', 'c-1,1,1', 'c-1,,2']);
    advance(1000);
    expect(sandbox.profile('mbox3rdPartyId', 'c-1')).toEqual({ b: '2' });
  });

  it('a single update between the batches keeps the first batch attributes', async () => {
    const { sandbox, advance } = await start();
    await submit(sandbox, ['batch=thirdPartyId,a,b', 'c-1,1,1']);
    advance(1000);
    expect((await call('GET', updateUrl(sandbox, 'c-1', '&profile.s=1'))).status).toBe(200);
    await submit(sandbox, ['batch=thirdPartyId,a,b', 'c-1,2,']);
    advance(1000);
    expect(sandbox.profile('mbox3rdPartyId', 'c-1')).toEqual({ a: '2', b: '1', s: '1' });

    // Without another single update, the third batch overrides the second.
    await submit(sandbox, ['batch=thirdPartyId,a,b', 'c-1,,3']);
    advance(1000);
    expect(sandbox.profile('mbox3rdPartyId', 'c-1')).toEqual({ b: '3', s: '1' });
  });

  it('a single update refused by a fault is no mbox call: the override still happens', async () => {
    const { sandbox, advance } = await start();
    await submit(sandbox, ['batch=thirdPartyId,a,b', 'c-1,1,1']);
    advance(1000);
    sandbox.setFaults({ failRate: 1 });
    expect((await call('GET', updateUrl(sandbox, 'c-1', '&profile.s=1'))).status).toBe(503);
    sandbox.setFaults({ failRate: 0 });
    await submit(sandbox, ['batch=thirdPartyId,a,b', 'c-1,2,']);
    advance(1000);
    expect(sandbox.profile('mbox3rdPartyId', 'c-1')).toEqual({ a: '2' });
  });
});

describe('bulk rows in the update log', () => {
  it('shows per-profile arrival order across single updates and bulk rows, with the batch id', async () => {
    const { sandbox, advance } = await start({ createMissing: true });
    await call('GET', updateUrl(sandbox, 'c-1', '&profile.n=1'));
    await submit(sandbox, ['batch=thirdPartyId,n', 'c-1,2', 'c-2,2']);
    advance(1000);
    await call('GET', updateUrl(sandbox, 'c-1', '&profile.n=3'));
    const applied = new Date(T0 + 1000).toISOString();
    expect(sandbox.updates({ identity: { kind: 'mbox3rdPartyId', value: 'c-1' } })).toEqual([
      {
        index: 0,
        identity: { kind: 'mbox3rdPartyId', value: 'c-1' },
        attributes: { n: '1' },
        method: 'GET',
        route: 'single',
        applied: true,
        receivedAt: new Date(T0).toISOString(),
      },
      {
        index: 1,
        identity: { kind: 'mbox3rdPartyId', value: 'c-1' },
        attributes: { n: '2' },
        method: 'BULK',
        route: 'bulk',
        batchId: 'batch-1',
        applied: true,
        receivedAt: applied,
      },
      {
        index: 3,
        identity: { kind: 'mbox3rdPartyId', value: 'c-1' },
        attributes: { n: '3' },
        method: 'GET',
        route: 'single',
        applied: true,
        receivedAt: applied,
      },
    ]);
    const { json } = await getJson(`${sandbox.url}/_sandbox/updates?from=2&limit=1`);
    expect(json).toEqual({
      total: 4,
      updates: [
        {
          index: 2,
          identity: { kind: 'mbox3rdPartyId', value: 'c-2' },
          attributes: { n: '2' },
          method: 'BULK',
          route: 'bulk',
          batchId: 'batch-1',
          applied: true,
          receivedAt: applied,
        },
      ],
    });
  });
});

describe('bulk faults', () => {
  it('reports error for the rows of bulkErrorIds and does not apply them', async () => {
    const { sandbox, advance } = await start({ bulkErrorIds: ['c-2'] });
    await submit(sandbox, ['batch=thirdPartyId,a', 'c-1,1', 'c-2,1', 'c-3,1']);
    advance(1000);
    expect((await poll(sandbox, 'batch-1')).text).toBe(
      statuses('batch-1', [
        ['c-1', 'success'],
        ['c-2', 'error'],
        ['c-3', 'success'],
      ]),
    );
    expect(sandbox.profile('mbox3rdPartyId', 'c-2')).toBeUndefined();
    expect(sandbox.stats()).toMatchObject({ bulkRowsSucceeded: 2, bulkRowsFailed: 1, bulkRowsPending: 0 });
  });

  it('draws row errors at bulkRowErrorRate from the seed, set over /_sandbox/faults', async () => {
    const rows = Array.from({ length: 60 }, (_, i) => `c-${i},1`);
    async function errorRows(seed: number): Promise<string[]> {
      const { sandbox, advance } = await start({ seed });
      const changed = await postJson(`${sandbox.url}/_sandbox/faults`, { bulkRowErrorRate: 0.5 });
      expect(JSON.parse(changed.text)).toMatchObject({ bulkRowErrorRate: 0.5, bulkErrorIds: [] });
      await submit(sandbox, ['batch=thirdPartyId,a', ...rows]);
      advance(1000);
      return (
        sandbox
          .batch('batch-1')
          ?.profiles.filter((p) => p.status === 'error')
          .map((p) => p.id) ?? []
      );
    }
    const first = await errorRows(5);
    expect(first.length).toBeGreaterThan(15);
    expect(first.length).toBeLessThan(45);
    expect(await errorRows(5)).toEqual(first);
    expect(await errorRows(6)).not.toEqual(first);
  });

  it('sets bulkErrorIds over /_sandbox/faults and refuses invalid bulk faults', async () => {
    const { sandbox, advance } = await start();
    expect((await postJson(`${sandbox.url}/_sandbox/faults`, { bulkErrorIds: ['c-1'] })).status).toBe(200);
    const invalid = await postJson(`${sandbox.url}/_sandbox/faults`, { bulkErrorIds: 'c-1', bulkRowErrorRate: 2 });
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.text)).toEqual({ problems: expect.arrayContaining(['/bulkRowErrorRate must be <= 1', '/bulkErrorIds must be array']) });
    await submit(sandbox, ['batch=thirdPartyId,a', 'c-1,1']);
    advance(1000);
    expect((await poll(sandbox, 'batch-1')).text).toBe(statuses('batch-1', [['c-1', 'error']]));
  });

  it('answers batchUpdate 503 and 429 faults without accepting the batch', async () => {
    const { sandbox } = await start({ failRate: 1 });
    expect(await submit(sandbox, ['batch=thirdPartyId,a', 'c,1'])).toMatchObject({ status: 503, text: 'Service Unavailable' });
    sandbox.setFaults({ failRate: 0, rate429: 1, retryAfterSeconds: 4 });
    expect(await submit(sandbox, ['batch=thirdPartyId,a', 'c,1'])).toMatchObject({ status: 429, headers: { 'retry-after': '4' } });
    expect(sandbox.batches()).toEqual([]);
    expect(sandbox.stats()).toMatchObject({ bulkByStatus: { '503': 1, '429': 1 }, bulkBatches: 0, requests: 0 });
  });

  it('resets or hangs batchUpdate connections', async () => {
    const { sandbox } = await start({ resetRate: 1 });
    await expect(submit(sandbox, ['batch=thirdPartyId,a', 'c,1'])).rejects.toMatchObject({ code: 'ECONNRESET' });
    sandbox.setFaults({ resetRate: 0, hangRate: 1 });
    const hung = call('POST', `${sandbox.url}/m2/acme/v2/profile/batchUpdate`, { body: 'batch=thirdPartyId,a\nc,1\n', timeoutMs: 300 });
    await expect(hung).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    expect(sandbox.stats()).toMatchObject({ bulkResets: 1, bulkHangs: 1, bulkRequests: 2, bulkBatches: 0 });
  });

  it('answers batchStatus polls 503 at failRate and delays them by latencyMs', async () => {
    const { sandbox } = await start();
    await submit(sandbox, ['batch=thirdPartyId,a', 'c,1']);
    sandbox.setFaults({ failRate: 1 });
    expect(await poll(sandbox, 'batch-1')).toMatchObject({ status: 503, text: 'Service Unavailable' });
    sandbox.setFaults({ failRate: 0, latencyMs: 200 });
    const began = performance.now();
    expect((await poll(sandbox, 'batch-1')).status).toBe(200);
    expect(performance.now() - began).toBeGreaterThanOrEqual(190);
  });
});

describe('bulk row quota', () => {
  it('refuses a batch that would exceed the rolling row quota with 429 and Retry-After, then accepts again', async () => {
    const { sandbox, advance } = await start({ bulkRowQuota: 5, quotaWindowMs: 10_000 });
    const three = ['batch=thirdPartyId,a', 'a,1', 'b,1', 'c,1'];
    expect((await submit(sandbox, three)).status).toBe(200);
    advance(4_000);
    const refusedReply = await submit(sandbox, three);
    expect(refusedReply).toMatchObject({
      status: 429,
      headers: { 'retry-after': '6', 'content-type': XML },
      text: refused('bulk row quota of 5 rows per 10000 ms would be exceeded by 3 rows; retry after 6 s'),
    });
    expect((await submit(sandbox, ['batch=thirdPartyId,a', 'd,1', 'e,1'])).status).toBe(200);
    advance(6_000);
    expect((await submit(sandbox, three)).status).toBe(200);
    expect(sandbox.batches().map((b) => b.rows)).toEqual([3, 2, 3]);
  });

  it('refuses a batch larger than the whole quota with 413: waiting would never help', async () => {
    const { sandbox } = await start({ bulkRowQuota: 2 });
    expect(await submit(sandbox, ['batch=thirdPartyId', 'a', 'b', 'c'])).toMatchObject({
      status: 413,
      text: refused('batch has 3 rows, more than the bulk row quota of 2 per 86400000 ms; split it'),
    });
  });
});

describe('bulk order checks', () => {
  it('counts single updates for profiles with a pending row, and batches overlapping a pending batch', async () => {
    const { sandbox, advance } = await start({ createMissing: true });
    await submit(sandbox, ['batch=thirdPartyId,a', 'c-1,1', 'c-2,1']);
    await call('GET', updateUrl(sandbox, 'c-3', '&profile.a=1'));
    expect(sandbox.stats().bulkOrderViolations).toBe(0);
    await call('GET', updateUrl(sandbox, 'c-1', '&profile.a=2'));
    expect(sandbox.stats().bulkOrderViolations).toBe(1);
    // Two rows for c-2 count once; c-4 is in no pending batch; mboxPC c-1 is another profile.
    await submit(sandbox, ['batch=thirdPartyId,a', 'c-2,1', 'c-2,2', 'c-4,1']);
    await submit(sandbox, ['batch=pcId,a', 'c-1,1']);
    expect(sandbox.stats().bulkOrderViolations).toBe(2);
    advance(1000);
    await call('GET', updateUrl(sandbox, 'c-1', '&profile.a=3'));
    await submit(sandbox, ['batch=thirdPartyId,a', 'c-2,1']);
    const { json } = await getJson(`${sandbox.url}/_sandbox/stats`);
    expect(json).toMatchObject({ bulkOrderViolations: 2 });
  });
});

describe('bulk inspection and stats', () => {
  it('lists batches and one batch with its rows over /_sandbox/batches, like the Sandbox object', async () => {
    const { sandbox, advance } = await start({ bulkErrorIds: ['c-2'] });
    const first = ['batch=thirdPartyId,a,b', 'c-1,1,', 'c-2,,2'];
    await submit(sandbox, first);
    advance(500);
    await submit(sandbox, ['batch=pcId,x', 'pc.1,1']);
    advance(500);
    const summary = {
      id: 'batch-1',
      submittedAt: new Date(T0).toISOString(),
      appliesAt: new Date(T0 + 1000).toISOString(),
      bytes: Buffer.byteLength(`${first.join('\n')}\n`),
      rows: 2,
      statuses: { pending: 0, success: 1, error: 1 },
      header: ['thirdPartyId', 'a', 'b'],
    };
    const second = {
      id: 'batch-2',
      submittedAt: new Date(T0 + 500).toISOString(),
      appliesAt: new Date(T0 + 1500).toISOString(),
      bytes: Buffer.byteLength('batch=pcId,x\npc.1,1\n'),
      rows: 1,
      statuses: { pending: 1, success: 0, error: 0 },
      header: ['pcId', 'x'],
    };
    expect((await getJson(`${sandbox.url}/_sandbox/batches`)).json).toEqual({ batches: [summary, second] });
    expect(sandbox.batches()).toEqual([summary, second]);
    const detail = {
      ...summary,
      profiles: [
        { id: 'c-1', status: 'success' },
        { id: 'c-2', status: 'error' },
      ],
    };
    expect((await getJson(`${sandbox.url}/_sandbox/batches?id=batch-1`)).json).toEqual(detail);
    expect(sandbox.batch('batch-1')).toEqual(detail);
    expect(await getJson(`${sandbox.url}/_sandbox/batches?id=nope`)).toEqual({ status: 404, json: { error: 'unknown batch id "nope"' } });
    expect(sandbox.batch('nope')).toBeUndefined();
  });

  it('counts batches, rows by status, bytes and polls in /_sandbox/stats', async () => {
    const { sandbox, advance } = await start({ bulkErrorIds: ['c-2'] });
    const file = ['batch=thirdPartyId,a', 'c-1,1', 'c-2,1'];
    await submit(sandbox, file);
    await submit(sandbox, ['batch=thirdPartyId,a', 'c-3,1']);
    advance(1000);
    await submit(sandbox, ['batch=thirdPartyId,a', 'c-4,1']);
    await poll(sandbox, 'batch-1');
    await submit(sandbox, ['bad']);
    expect((await getJson(`${sandbox.url}/_sandbox/stats`)).json).toEqual({
      requests: 0,
      byStatus: {},
      resets: 0,
      hangs: 0,
      updates: 0,
      applied: 0,
      ignored: 0,
      profiles: 2,
      inFlight: 0,
      maxInFlight: 0,
      maxConcurrentPerProfile: 0,
      bulkRequests: 4,
      bulkByStatus: { '200': 3, '400': 1 },
      bulkResets: 0,
      bulkHangs: 0,
      bulkStatusPolls: 1,
      bulkCallsRefused: 0,
      bulkBatches: 3,
      bulkBatchesApplied: 2,
      bulkRowsPending: 1,
      bulkRowsSucceeded: 2,
      bulkRowsFailed: 1,
      bulkBytes: Buffer.byteLength(`${file.join('\n')}\n`) + 2 * Buffer.byteLength('batch=thirdPartyId,a\nc-3,1\n'),
      bulkOrderViolations: 0,
      deliveryRequests: 0,
      deliveryByStatus: {},
      deliveryResets: 0,
      deliveryHangs: 0,
      maxConcurrentPerSession: 0,
      byRoute: { single: 0, bulk: 4, realtime: 0 },
    });
  });

  it('forgets batches, bulk counters, override memory and the row quota on reset, and numbers batches from 1 again', async () => {
    const { sandbox, advance } = await start({ bulkRowQuota: 1 });
    await submit(sandbox, ['batch=thirdPartyId,a,b', 'c-1,1,1']);
    advance(1000);
    expect((await call('POST', `${sandbox.url}/_sandbox/reset`)).status).toBe(204);
    expect(sandbox.batches()).toEqual([]);
    expect(await poll(sandbox, 'batch-1')).toMatchObject({ status: 404 });
    expect(sandbox.stats()).toMatchObject({ bulkBatches: 0, bulkRequests: 0, bulkRowsSucceeded: 0, bulkStatusPolls: 1, profiles: 0 });

    // The quota of one row was spent before the reset; the memory of c-1's first row is gone.
    sandbox.seedProfile({ kind: 'mbox3rdPartyId', value: 'c-1' }, { b: 'seeded' });
    expect((await submit(sandbox, ['batch=thirdPartyId,a,b', 'c-1,2,'])).text).toContain('batchId=batch-1<');
    advance(1000);
    expect(sandbox.profile('mbox3rdPartyId', 'c-1')).toEqual({ a: '2', b: 'seeded' });
  });
});

describe('bulk on the real clock', () => {
  it('reports pending right after submission and success once bulkDelayMs has passed', async () => {
    const sandbox = await startSandbox({ bulkDelayMs: 1500 });
    await submit(sandbox, ['batch=thirdPartyId,a', 'c-1,1']);
    expect((await poll(sandbox, 'batch-1')).text).toBe(statuses('batch-1', [['c-1', 'pending']]));
    let text = '';
    for (let i = 0; i < 100 && !text.includes('success'); i++) {
      await sleep(50);
      text = (await poll(sandbox, 'batch-1')).text;
    }
    expect(text).toBe(statuses('batch-1', [['c-1', 'success']]));
    expect(sandbox.profile('mbox3rdPartyId', 'c-1')).toEqual({ a: '1' });
  });
});
