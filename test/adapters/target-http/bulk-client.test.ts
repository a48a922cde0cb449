import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TargetBulkClient } from '../../../connector/adapters/target-http/bulk-client.js';
import type { TargetClientObserver } from '../../../connector/adapters/target-http/client.js';
import { TargetError } from '../../../connector/core/errors.js';
import { BatchFileBuilder, type BatchFile, type BatchRow } from '../../../connector/core/target-api/batch-file.js';
import { startSandbox, type Sandbox } from '../../../connector/tools/sandbox/server.js';
import type { SandboxOptions } from '../../../connector/tools/sandbox/options.js';

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

const BATCH_PATH = '/m2/acme/v2/profile/batchUpdate';

/** A sandbox on a clock that moves only when the test says so, and a client for it. */
async function setup(
  options: SandboxOptions = {},
  observer?: TargetClientObserver,
): Promise<{ sandbox: Sandbox; client: TargetBulkClient; advance: (ms: number) => void }> {
  let now = Date.UTC(2026, 0, 1, 12);
  const sandbox = await startSandbox({ clientCode: 'acme', seed: 5, bulkDelayMs: 100, clock: () => now, ...options });
  open.push(sandbox);
  const client = new TargetBulkClient({ baseUrl: sandbox.url, batchPath: BATCH_PATH, timeoutMs: 1000, observer });
  open.push(client);
  return { sandbox, client, advance: (ms) => (now += ms) };
}

/** A server answering `status` with the next of `bodies` to each request (for replies the sandbox never gives); closed after the test. */
async function replyingServer(status: number, bodies: string[]): Promise<string> {
  const server = createServer((_req, res) => res.writeHead(status, { 'content-type': 'application/xml' }).end(bodies.shift() ?? ''));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  open.push({
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function fileOf(rows: BatchRow[]): BatchFile {
  const builder = new BatchFileBuilder();
  for (const row of rows) builder.add(row);
  return builder.build();
}

const ROWS: BatchRow[] = [
  { id: 'c-1', attributes: { city: 'Malmö, Skåne', note: '100% & 1+1=2\n🎉' } },
  { id: 'Åsa@example.com', attributes: { tier: 'gold' } },
  { id: 'c-3', attributes: { city: 'Lund' } },
];

function errorOf(result: { kind: string; error?: unknown }): TargetError {
  expect(result.error).toBeInstanceOf(TargetError);
  return result.error as TargetError;
}

describe('TargetBulkClient', () => {
  it('submits a file Target accepts, then reads its rows pending and, once applied, success or error', async () => {
    const replies: Array<[string, number | undefined]> = [];
    const { sandbox, client, advance } = await setup({ bulkErrorIds: ['c-3'] }, { replied: (method, status) => replies.push([method, status]) });

    const submitted = await client.submit(fileOf(ROWS));
    expect(submitted).toEqual({ kind: 'accepted', statusUrl: `${sandbox.url}/m2/acme/v2/profile/batchStatus?batchId=batch-1` });
    if (submitted.kind !== 'accepted') return;

    const pending = await client.status(submitted.statusUrl);
    expect(pending).toEqual({
      kind: 'report',
      batchId: 'batch-1',
      rows: new Map(ROWS.map((row) => [row.id, 'pending'])),
      unknown: [],
    });

    advance(100);
    const done = await client.status(submitted.statusUrl);
    expect(done).toEqual({
      kind: 'report',
      batchId: 'batch-1',
      rows: new Map([
        ['c-1', 'success'],
        ['Åsa@example.com', 'success'],
        ['c-3', 'error'],
      ]),
      unknown: [],
    });
    expect(sandbox.profile('mbox3rdPartyId', 'c-1')).toEqual(ROWS[0]?.attributes);
    expect(sandbox.profile('mbox3rdPartyId', 'Åsa@example.com')).toEqual({ tier: 'gold' });
    expect(sandbox.profile('mbox3rdPartyId', 'c-3')).toBeUndefined();
    expect(sandbox.batches()[0]).toMatchObject({ rows: 3, bytes: fileOf(ROWS).bytes });
    expect(replies).toEqual([
      ['POST', 200],
      ['GET', 200],
      ['GET', 200],
    ]);
  });

  it('turns 503 and 429 with Retry-After into retryable results naming the batch, and reports each status', async () => {
    const replies: Array<[string, number | undefined]> = [];
    const { sandbox, client } = await setup({ failRate: 1 }, { replied: (method, status) => replies.push([method, status]) });
    const file = fileOf(ROWS);

    const unavailable = await client.submit(file);
    expect(unavailable).toMatchObject({ kind: 'retryable', error: { status: 503, retryable: true } });
    expect(errorOf(unavailable).message).toBe(`batch of 3 rows (${file.bytes} bytes): Target answered 503: Service Unavailable`);

    sandbox.setFaults({ failRate: 0, rate429: 1, retryAfterSeconds: 7 });
    expect(await client.submit(file)).toMatchObject({ kind: 'retryable', retryAfterMs: 7000, error: { status: 429 } });

    sandbox.setFaults({ rate429: 0 });
    const accepted = await client.submit(file);
    if (accepted.kind !== 'accepted') throw new Error(`not accepted: ${accepted.kind}`);
    sandbox.setFaults({ failRate: 1 });
    expect(await client.status(accepted.statusUrl)).toMatchObject({ kind: 'retryable', error: { status: 503 } });
    expect(replies).toEqual([
      ['POST', 503],
      ['POST', 429],
      ['POST', 200],
      ['GET', 503],
    ]);
    expect(sandbox.batches()).toHaveLength(1);
  });

  it("turns Target's 503 past the bulk calls a minute into retryable results with its Retry-After, for submits and polls", async () => {
    const { client, advance } = await setup({ bulkCallsPerMinute: 1 });
    const file = fileOf(ROWS);
    const accepted = await client.submit(file);
    if (accepted.kind !== 'accepted') throw new Error(`not accepted: ${accepted.kind}`);
    advance(45_000);
    const poll = await client.status(accepted.statusUrl);
    expect(poll).toMatchObject({ kind: 'retryable', retryAfterMs: 15_000, error: { status: 503, retryable: true } });
    expect(errorOf(poll).message).toBe('status of batch batch-1: Target answered 503: more than 1 bulk API calls in a minute; retry after 15 s');
    expect(await client.submit(file)).toMatchObject({ kind: 'retryable', retryAfterMs: 15_000, error: { status: 503, retryable: true } });
  });

  it("turns a file Target refuses into a permanent result with Target's message", async () => {
    const { sandbox, client } = await setup({ bulkMaxRows: 2 });
    const text = 'batch=thirdPartyId,a\nc-1,1,2\n';
    const malformed = await client.submit({ text, bytes: text.length, ids: ['c-1'] });
    expect(malformed).toMatchObject({ kind: 'permanent', error: { status: 400, retryable: false } });
    expect(errorOf(malformed).message).toBe(`batch of 1 rows (${text.length} bytes): Target answered 400: line 2: row has 3 cells, the header has 2`);

    const tooMany = await client.submit(fileOf(ROWS));
    expect(tooMany).toMatchObject({ kind: 'permanent', error: { status: 413 } });
    expect(errorOf(tooMany).message).toMatch(/batch file has 3 rows; at most 2 are allowed$/);
    expect(sandbox.batches()).toEqual([]);
  });

  it('turns a 2xx reply with success=false, or one that is no bulk reply at all, into a permanent result', async () => {
    // The sandbox answers every refusal with a 4xx; a 200 with success=false or an HTML page is
    // what a real endpoint or a proxy in front of it may send instead.
    const url = await replyingServer(200, [
      '<response><success>false</success><message>Batch rejected: account not enabled</message></response>',
      '<html><body>Welcome</body></html>',
      '<html><body>Welcome</body></html>',
    ]);
    const client = new TargetBulkClient({ baseUrl: url, batchPath: BATCH_PATH, timeoutMs: 1000 });
    open.push(client);
    const file = fileOf(ROWS);
    const refused = await client.submit(file);
    expect(refused).toMatchObject({ kind: 'permanent', error: { status: 200, retryable: false } });
    expect(errorOf(refused).message).toBe(`Target refused the batch of 3 rows (${file.bytes} bytes): Batch rejected: account not enabled`);
    const garbage = await client.submit(file);
    expect(garbage).toMatchObject({ kind: 'permanent', error: { status: 200 } });
    expect(errorOf(garbage).message).toBe(
      `batch of 3 rows (${file.bytes} bytes): Target's reply is not a batchUpdate response: <html><body>Welcome</body></html>`,
    );
    const status = await client.status(`${url}/m2/acme/v2/profile/batchStatus?batchId=b-1`);
    expect(status).toMatchObject({ kind: 'permanent', error: { status: 200 } });
    expect(errorOf(status).message).toMatch(/^status of batch b-1: Target's reply is not a batchStatus response/);
  });

  it('reads the status of an unknown batch as permanent, also on another origin', async () => {
    const { sandbox, client } = await setup();
    const unknown = await client.status(`${sandbox.url}/m2/acme/v2/profile/batchStatus?batchId=nope`);
    expect(unknown).toMatchObject({ kind: 'permanent', error: { status: 404, retryable: false } });
    expect(errorOf(unknown).message).toBe('status of batch nope: Target answered 404: unknown batchId "nope"');

    const other = await setup();
    const accepted = await other.client.submit(fileOf(ROWS));
    if (accepted.kind !== 'accepted') throw new Error(`not accepted: ${accepted.kind}`);
    expect(await client.status(accepted.statusUrl)).toMatchObject({ kind: 'report', batchId: 'batch-1' });
  });

  it('turns a refused connection into retryable results and reports no status', async () => {
    const { sandbox } = await setup();
    const replies: Array<[string, number | undefined]> = [];
    const url = sandbox.url;
    await sandbox.close();
    const client = new TargetBulkClient({
      baseUrl: url,
      batchPath: BATCH_PATH,
      timeoutMs: 1000,
      observer: { replied: (method, status) => replies.push([method, status]) },
    });
    open.push(client);
    const file = fileOf(ROWS);
    const submitted = await client.submit(file);
    expect(submitted).toMatchObject({ kind: 'retryable', error: { retryable: true } });
    expect(errorOf(submitted).message).toBe(`batch of 3 rows (${file.bytes} bytes): request to Target failed: ECONNREFUSED`);
    expect(await client.status(`${url}/m2/acme/v2/profile/batchStatus?batchId=batch-1`)).toMatchObject({ kind: 'retryable' });
    expect(replies).toEqual([
      ['POST', undefined],
      ['GET', undefined],
    ]);
  });

  it('turns a reset connection and a reply that never comes into retryable results', async () => {
    const { sandbox } = await setup({ resetRate: 1 });
    const client = new TargetBulkClient({ baseUrl: sandbox.url, batchPath: BATCH_PATH, timeoutMs: 200 });
    open.push(client);
    expect(await client.submit(fileOf(ROWS))).toMatchObject({ kind: 'retryable' });
    sandbox.setFaults({ resetRate: 0, hangRate: 1 });
    const hung = await client.submit(fileOf(ROWS));
    expect(hung).toMatchObject({ kind: 'retryable' });
    expect(errorOf(hung).message).toMatch(/request to Target failed: UND_ERR_HEADERS_TIMEOUT$/);
  });
});
