/** The sandbox's state file: written shortly after changes (not only on close), atomically, and refused when it is not one. */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startSandbox } from '../../../connector/tools/sandbox/server.js';
import { waitFor } from '../../support/delivery-harness.js';
import { testTempDir } from '../../support/test-run.js';
import { call } from './http-client.js';
import { profileParams, updateUrl, useSandboxes } from './sandbox-fixture.js';

const start = useSandboxes();

async function readState(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

describe('--state-file', () => {
  it('follows changes while running, in the documented format, leaving no temporary file', async () => {
    const dir = await testTempDir('state');
    const path = join(dir, 'profiles.json');
    const sandbox = await start({ createMissing: true, stateFile: path, clock: () => Date.parse('2025-01-02T03:04:05.000Z') });
    await call('GET', updateUrl(sandbox, 'c-1', profileParams({ tier: 'GOLD' })));
    await call('POST', `${sandbox.url}/_sandbox/profiles`, {
      body: JSON.stringify({ mboxPC: 'pc-9', attributes: { a: '1' } }),
      contentType: 'application/json',
    });
    const expected = {
      version: 1,
      profiles: [
        { mbox3rdPartyId: 'c-1', attributes: { tier: { value: 'GOLD', modifiedAt: '2025-01-02T03:04:05.000Z' } } },
        { mboxPC: 'pc-9', attributes: { a: { value: '1', modifiedAt: '2025-01-02T03:04:05.000Z' } } },
      ],
    };
    let seen: unknown;
    await waitFor('the state file to hold both profiles', async () => JSON.stringify((seen = await readState(path))) === JSON.stringify(expected), 10_000);
    expect(seen).toEqual(expected);
    expect(await readdir(dir)).toEqual(['profiles.json']);

    // A reset forgets the profiles, and so does the file.
    await call('POST', `${sandbox.url}/_sandbox/reset`);
    await waitFor('the state file to be emptied', async () => JSON.stringify(await readState(path)) === '{"version":1,"profiles":[]}', 10_000);
  });

  it('starts from the file, and refuses one that is not a state file, naming it', async () => {
    const dir = await testTempDir('state');
    const path = join(dir, 'profiles.json');
    await writeFile(
      path,
      JSON.stringify({ version: 1, profiles: [{ mbox3rdPartyId: 'c-2', attributes: { city: { value: 'Malmö', modifiedAt: '2025-01-01T00:00:00.000Z' } } }] }),
    );
    const sandbox = await start({ stateFile: path });
    expect(sandbox.profile('mbox3rdPartyId', 'c-2')).toEqual({ city: 'Malmö' });

    await writeFile(path, '{"profiles": 3}');
    await expect(startSandbox({ stateFile: path })).rejects.toThrow(`${path} is not a sandbox state file`);
  });
});
