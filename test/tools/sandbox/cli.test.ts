import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { testTempDir } from '../../support/test-run.js';
import { call, getJson } from './http-client.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];

/** Runs the CLI from source in one node process, so signals reach it directly (npx would relay). */
function simulateTarget(args: string[]): ChildProcessWithoutNullStreams {
  const child = spawn(process.execPath, ['--import', 'tsx', 'connector/cli/main.ts', 'simulate-target', ...args], {
    cwd: root,
  });
  children.push(child);
  return child;
}

async function firstLine(child: ChildProcessWithoutNullStreams): Promise<string> {
  const lines = createInterface({ input: child.stdout });
  const [line] = (await once(lines, 'line')) as [string];
  lines.close();
  return line;
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('simulate-target command', () => {
  it('prints the listening line, serves the API, and exits 0 on SIGTERM', async () => {
    const child = simulateTarget(['--port', '0', '--client-code', 'shop', '--create-missing']);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const line = await firstLine(child);
    const url = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line)?.[1];
    expect(url, line).toBeDefined();

    const reply = await call('GET', `${url}/m2/shop/profile/update?mbox3rdPartyId=c-1&profile.city=Malm%C3%B6`);
    expect(reply).toMatchObject({ status: 200, text: 'trueRequest successfully submitted' });
    const { json } = await getJson(`${url}/rest/v1/profiles/thirdPartyId/c-1?client=shop`);
    expect(json).toMatchObject({ profileAttributes: { city: { value: 'Malmö' } } });

    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(stdout).toBe(`${line}\n`);
  });

  it('passes fault flags through', async () => {
    const child = simulateTarget(['--port', '0', '--create-missing', '--rate-429', '1', '--retry-after-seconds', '9']);
    const url = (await firstLine(child)).replace('listening on ', '');
    const reply = await call('GET', `${url}/m2/acme/profile/update?mbox3rdPartyId=c&profile.a=1`);
    expect(reply).toMatchObject({ status: 429, headers: { 'retry-after': '9' } });
    child.kill('SIGINT');
    expect((await once(child, 'exit'))[0]).toBe(0);
  });

  it('passes bulk flags through', async () => {
    const child = simulateTarget(['--port', '0', '--bulk-delay-ms', '0', '--bulk-max-rows', '1', '--bulk-row-error-rate', '1']);
    const url = (await firstLine(child)).replace('listening on ', '');
    const batchUpdate = `${url}/m2/acme/v2/profile/batchUpdate`;
    expect(await call('POST', batchUpdate, { body: 'batch=thirdPartyId,a\nc-1,1\nc-2,1\n' })).toMatchObject({
      status: 413,
      text: '<response><success>false</success><message>batch file has 2 rows; at most 1 are allowed</message></response>',
    });
    expect((await call('POST', batchUpdate, { body: 'batch=thirdPartyId,a\nc-1,1\n' })).status).toBe(200);
    const status = await call('GET', `${url}/m2/acme/v2/profile/batchStatus?batchId=batch-1`);
    expect(status.text).toBe('<response><batchId>batch-1</batchId><profile><id>c-1</id><status>error</status></profile></response>');
    child.kill('SIGTERM');
    expect((await once(child, 'exit'))[0]).toBe(0);
  });

  it('refuses an invalid flag value with a message and a non-zero exit', async () => {
    const child = simulateTarget(['--fail-rate', '2']);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).not.toBe(0);
    expect(stderr).toContain('expected a number from 0 to 1');
  });

  it('refuses a zero bulk limit with a message and a non-zero exit', async () => {
    const child = simulateTarget(['--bulk-max-bytes', '0']);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).not.toBe(0);
    expect(stderr).toContain('bulkMaxBytes must be a positive integer');
  });

  it('keeps profiles across a restart with --state-file', async () => {
    const stateFile = join(await testTempDir('sandbox-state'), 'profiles.json');
    const first = simulateTarget(['--port', '0', '--create-missing', '--state-file', stateFile]);
    const url = (await firstLine(first)).replace('listening on ', '');
    expect((await call('GET', `${url}/m2/acme/profile/update?mbox3rdPartyId=c-1&profile.tier=GOLD&profile.city=Malm%C3%B6`)).status).toBe(200);
    const before = (await getJson(`${url}/rest/v1/profiles/thirdPartyId/c-1?client=acme`)).json;
    first.kill('SIGTERM');
    expect((await once(first, 'exit'))[0]).toBe(0);

    // Without --create-missing: only a profile that exists takes the update.
    const second = simulateTarget(['--port', '0', '--state-file', stateFile]);
    const again = (await firstLine(second)).replace('listening on ', '');
    const { status, json } = await getJson(`${again}/rest/v1/profiles/thirdPartyId/c-1?client=acme`);
    expect(status).toBe(200);
    expect(json).toEqual(before);
    expect(json).toMatchObject({ profileAttributes: { tier: { value: 'GOLD' }, city: { value: 'Malmö' } } });
    expect((await call('GET', `${again}/m2/acme/profile/update?mbox3rdPartyId=c-1&profile.tier=SILVER`)).status).toBe(200);
    expect((await getJson(`${again}/rest/v1/profiles/thirdPartyId/c-1?client=acme`)).json).toMatchObject({
      profileAttributes: { tier: { value: 'SILVER' }, city: { value: 'Malmö' } },
    });
    second.kill('SIGINT');
    expect((await once(second, 'exit'))[0]).toBe(0);
  });
});
