/** The sandbox enforces Target's limit on bulk API calls a minute (batchUpdate and batchStatus together). */
import { describe, expect, it } from 'vitest';
import type { SandboxOptions } from '../../../connector/tools/sandbox/options.js';
import type { Sandbox } from '../../../connector/tools/sandbox/server.js';
import { call } from './http-client.js';
import { useSandboxes } from './sandbox-fixture.js';

const startSandbox = useSandboxes();

async function start(options: SandboxOptions = {}): Promise<{ sandbox: Sandbox; advance: (ms: number) => void }> {
  let now = Date.UTC(2026, 0, 1, 12);
  const sandbox = await startSandbox({ bulkDelayMs: 1000, clock: () => now, ...options });
  return { sandbox, advance: (ms) => (now += ms) };
}

const submit = (sandbox: Sandbox, id: string) =>
  call('POST', `${sandbox.url}/m2/acme/v2/profile/batchUpdate`, { body: `batch=thirdPartyId,tier\n${id},GOLD\n` });
const poll = (sandbox: Sandbox, batchId: string) => call('GET', `${sandbox.url}/m2/acme/v2/profile/batchStatus?batchId=${batchId}`);

describe('bulk calls a minute', () => {
  it('answers 503 with Retry-After to the call past the limit in any rolling minute, submits and polls counted together', async () => {
    const { sandbox, advance } = await start({ bulkCallsPerMinute: 3 });
    expect((await submit(sandbox, 'c-1')).status).toBe(200);
    advance(20_000);
    expect((await poll(sandbox, 'batch-1')).status).toBe(200);
    advance(20_000);
    expect((await submit(sandbox, 'c-2')).status).toBe(200);
    advance(10_000);
    const refusedPoll = await poll(sandbox, 'batch-1');
    expect(refusedPoll).toMatchObject({ status: 503, headers: { 'retry-after': '10' } });
    expect(refusedPoll.text).toBe('<response><success>false</success><message>more than 3 bulk API calls in a minute; retry after 10 s</message></response>');
    expect((await submit(sandbox, 'c-3')).status).toBe(503);
    // A minute after the first call it has left the window: one call fits again, not two.
    advance(10_000);
    expect((await poll(sandbox, 'batch-1')).status).toBe(200);
    expect((await poll(sandbox, 'batch-2')).status).toBe(503);
    expect(sandbox.stats()).toMatchObject({ bulkCallsRefused: 3, bulkBatches: 2, bulkByStatus: { '200': 2, '503': 1 }, bulkStatusPolls: 4 });
  });

  it("allows Target's 50 calls a minute unless told otherwise", async () => {
    const { sandbox } = await start();
    for (let i = 0; i < 50; i++) expect((await submit(sandbox, `c-${i}`)).status).toBe(200);
    expect((await poll(sandbox, 'batch-1')).status).toBe(503);
    expect(sandbox.stats().bulkCallsRefused).toBe(1);
  });

  it('refuses a limit that is not a positive integer', async () => {
    await expect(startSandbox({ bulkCallsPerMinute: 0 })).rejects.toThrow(/bulkCallsPerMinute must be a positive integer/);
  });
});
