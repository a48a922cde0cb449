import { rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_IDENTITY, probeTarget, type TargetEndpointConfig } from '../../../connector/apps/common/target-probe.js';
import { checkConnection } from '../../../connector/apps/check/check.js';
import { createLogger } from '../../../connector/observe/logger.js';
import { startSandbox, type Sandbox } from '../../../connector/tools/sandbox/server.js';
import { writeAirbyteWorkspace } from '../../support/airbyte-workspace.js';

const PATH = '/m2/{client_code}/profile/update';
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ clientCode: 'acme' });
});

afterEach(() => sandbox.reset());

afterAll(async () => {
  await sandbox.close();
});

const onSandbox = (change: Partial<TargetEndpointConfig> = {}): TargetEndpointConfig => ({
  client_code: 'acme',
  base_url: sandbox.url,
  path: PATH,
  ...change,
});

/** Runs `probe` against a server answering every request with `status` and `body`, then stops it. */
async function withServer<T>(status: number, body: string, probe: (url: string) => Promise<T>): Promise<T> {
  const server = createServer((_req, res) => res.writeHead(status, { 'content-type': 'text/html' }).end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await probe(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('the Target probe of check', () => {
  it('passes when the update path answers "true…", naming the URL, and changes no profile', async () => {
    const result = await probeTarget(onSandbox(), 2000);
    expect(result).toEqual({
      probe: 'Target endpoint',
      status: 'passed',
      detail: `${sandbox.url}/m2/acme/profile/update accepted an update without attributes: "trueRequest successfully submitted"`,
    });
    // It went through the real update path, for the probe identity only, with nothing to write.
    expect(sandbox.updates()).toEqual([expect.objectContaining({ identity: PROBE_IDENTITY, attributes: {}, method: 'GET', applied: false })]);
    expect(sandbox.profile(PROBE_IDENTITY.kind, PROBE_IDENTITY.value)).toBeUndefined();
  });

  it('leaves an existing profile of the probe identity as it was', async () => {
    sandbox.seedProfile(PROBE_IDENTITY, { tier: 'gold' });
    expect((await probeTarget(onSandbox(), 2000)).status).toBe('passed');
    expect(sandbox.profile(PROBE_IDENTITY.kind, PROBE_IDENTITY.value)).toEqual({ tier: 'gold' });
  });

  it('fails on a wrong client code, naming it and the path', async () => {
    const result = await probeTarget(onSandbox({ client_code: 'acme-typo' }), 2000);
    expect(result.status).toBe('failed');
    expect(result.detail).toBe(
      `the update path ${sandbox.url}/m2/acme-typo/profile/update does not exist: check target.client_code (acme-typo) ` +
        'and target.path (answered HTTP 404 "unknown client code")',
    );
  });

  it('fails on a base_url whose server answers 404 on every path (any answer passed the old GET / probe)', async () => {
    const result = await withServer(404, '<h1>Not Found</h1>', (url) => probeTarget(onSandbox({ base_url: url }), 2000));
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(
      /^the update path http:\/\/127\.0\.0\.1:\d+\/m2\/acme\/profile\/update does not exist: check target\.client_code \(acme\) and target\.path \(answered HTTP 404 "<h1>Not Found<\/h1>"\)$/,
    );
  });

  it('fails on a server that answers 2xx without "true": it is not Target', async () => {
    const result = await withServer(200, '<html>\n<body>Welcome</body></html>', (url) => probeTarget(onSandbox({ base_url: url }), 2000));
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(
      /^this does not look like Adobe Target: http:\/\/127\.0\.0\.1:\d+\/m2\/acme\/profile\/update answered HTTP 200 "<html> <body>Welcome<\/body><\/html>" instead of "true…"$/,
    );
  });

  it('fails on 401 and 403, naming authentication', async () => {
    for (const status of [401, 403]) {
      const result = await withServer(status, 'Unauthorized', (url) => probeTarget(onSandbox({ base_url: url }), 2000));
      expect(result.status).toBe('failed');
      expect(result.detail).toMatch(new RegExp(`refused the update as not authorized \\(answered HTTP ${status} "Unauthorized"\\): .*authentication`));
    }
  });

  it('fails on a 5xx with the status and the body, saying it may pass later', async () => {
    sandbox.setFaults({ failRate: 1 });
    const result = await probeTarget(onSandbox(), 2000);
    expect(result.status).toBe('failed');
    expect(result.detail).toBe(
      `${sandbox.url}/m2/acme/profile/update answered HTTP 503 "Service Unavailable" (a temporary failure: \`run\` retries such answers; check again later)`,
    );
  });

  it('fails when nothing listens, with the reason', async () => {
    const closed = await startSandbox();
    await closed.close();
    const result = await probeTarget(onSandbox({ base_url: closed.url }), 2000);
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(new RegExp(`^no HTTP answer from ${closed.url}/m2/acme/profile/update: .*ECONNREFUSED`));
  });

  it('fails when the endpoint never answers, within the probe timeout', async () => {
    sandbox.setFaults({ hangRate: 1 });
    const result = await probeTarget(onSandbox(), 300);
    expect(result.status).toBe('failed');
    expect(result.detail).toMatch(new RegExp(`^no HTTP answer from ${sandbox.url}/m2/acme/profile/update: .*(within 300 ms|timeout)`, 'i'));
  });
});

describe('check with the Target probe', () => {
  const quiet = createLogger({ level: 'silent' });

  it('reports the Target probe in its CONNECTION_STATUS, failing on a wrong client code', async () => {
    const right = writeAirbyteWorkspace({ targetUrl: sandbox.url });
    const wrong = writeAirbyteWorkspace({ targetUrl: sandbox.url, target: { client_code: 'acme-typo' } });
    try {
      // Nothing listens on the workspace's broker port, so the Kafka probes fail either way.
      const passing = (await checkConnection(right.config, { logger: quiet })).connectionStatus.message;
      expect(passing.split('\n').find((line) => line.startsWith('passed: '))).toMatch(/^passed: .*Target endpoint$/);
      const failing = (await checkConnection(wrong.config, { logger: quiet })).connectionStatus.message;
      expect(failing.split('\n')).toContain(
        `Target endpoint: the update path ${sandbox.url}/m2/acme-typo/profile/update does not exist: check target.client_code (acme-typo) ` +
          'and target.path (answered HTTP 404 "unknown client code")',
      );
    } finally {
      rmSync(right.dir, { recursive: true, force: true });
      rmSync(wrong.dir, { recursive: true, force: true });
    }
  });
});
