/**
 * scripts/redis.sh start|stop|status on a private folder and free ports: a real redis-server that
 * answers PING over TCP, and nothing left behind once stopped or when a start cannot work.
 * The script installs redis-server when missing; the tests are skipped, saying so, only where this
 * machine cannot install it.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { connect, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { holdPort, lastLine, processesUsing } from '../support/local-broker.js';
import { testTempDir } from '../support/test-run.js';

const SCRIPT = resolve(import.meta.dirname, '../../scripts/redis.sh');
// The script's exit status when redis-server is missing and this machine cannot install it.
const CANNOT_INSTALL = 5;
// A first start on a fresh machine installs the packages (apt-get update included).
const INSTALL_TIMEOUT_MS = 600_000;
// Any later run of the script.
const RUN_TIMEOUT_MS = 60_000;

let home: string;
let unavailable = '';

beforeAll(async () => {
  home = await testTempDir('redis-home');
  // One start and stop first, so that installing redis-server happens here, within this long timeout.
  const provision = redis(['start'], undefined, {}, INSTALL_TIMEOUT_MS);
  if (provision.code === CANNOT_INSTALL) {
    unavailable = `redis-server is not installed and cannot be installed here, so the tests that run it are skipped: ${lastLine(provision.stderr)}`;
    console.warn(unavailable);
    return;
  }
  if (provision.code !== 0) throw new Error(`scripts/redis.sh start failed (exit ${String(provision.code)}):\n${provision.stderr}`);
  const stopped = redis(['stop']);
  if (stopped.code !== 0) throw new Error(`scripts/redis.sh stop failed (exit ${String(stopped.code)}):\n${stopped.stderr}`);
}, INSTALL_TIMEOUT_MS + 10_000);

afterAll(() => {
  // Whatever a failed test left running; the folder goes with the file's temporary folders.
  if (home) redis(['stop']);
});

/** What one run of the script printed, and how it ended. */
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs scripts/redis.sh on this file's folder, with REDIS_PORT when given. */
function redis(args: string[], port?: number, extraEnv: NodeJS.ProcessEnv = {}, timeout = RUN_TIMEOUT_MS): Run {
  const env = { ...process.env, REDIS_HOME_DIR: home, REDIS_PORT: port === undefined ? '' : String(port), ...extraEnv };
  const run = spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', env, timeout });
  return { code: run.status, stdout: run.stdout.trim(), stderr: run.stderr };
}

/** Starts a real server, or skips the test when this machine cannot install redis-server. */
function start(context: TestContext, port?: number): Run {
  if (unavailable) context.skip(unavailable);
  return redis(['start'], port);
}

/** A port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = await holdPort(0);
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Sends PING to 127.0.0.1:`port` and returns the first line of the answer. */
async function ping(port: number): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  try {
    await once(socket, 'connect');
    socket.write('PING\r\n');
    let answer = '';
    while (!answer.includes('\r\n')) answer += String((await once(socket, 'data'))[0]);
    return answer.slice(0, answer.indexOf('\r\n'));
  } finally {
    socket.destroy();
  }
}

/** Asserts no server of this folder runs and no file of the port's server is left but the `kept` ones (a failed start keeps its log). */
function expectNothingLeft(port: number, kept: string[] = []): void {
  expect(processesUsing(home)).toEqual([]);
  expect(readdirSync(home).filter((name) => name.startsWith(`redis-${port}.`))).toEqual(kept.map((extension) => `redis-${port}.${extension}`));
}

/** A folder holding a stand-in `redis-server`: a bash script with `body`, run with the real one's arguments. */
async function fakeRedisServer(body: string): Promise<string> {
  const bin = await testTempDir('fake-redis');
  await writeFile(join(bin, 'redis-server'), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
  return bin;
}

describe('scripts/redis.sh', () => {
  it('starts a server on REDIS_PORT that answers PING over TCP, and stop leaves no process and no pid file', async (context) => {
    const port = await freePort();
    const started = start(context, port);
    expect(started, started.stderr).toMatchObject({ code: 0, stdout: `redis://127.0.0.1:${port}` });
    expect(await ping(port)).toBe('+PONG');
    expect(redis(['status'], port).stdout).toMatch(new RegExp(`^running pid=\\d+ url=redis://127\\.0\\.0\\.1:${port}$`));

    const stopped = redis(['stop'], port);
    expect(stopped.code, stopped.stderr).toBe(0);
    expectNothingLeft(port);
    expect(redis(['status'], port)).toMatchObject({ code: 3, stdout: 'stopped' });
    await expect(ping(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('picks a free port without REDIS_PORT, reuses its server on a second start, and stop without REDIS_PORT stops it', async (context) => {
    const first = start(context);
    expect(first, first.stderr).toMatchObject({ code: 0, stdout: expect.stringMatching(/^redis:\/\/127\.0\.0\.1:\d+$/) });
    const port = Number(first.stdout.split(':').at(-1));
    expect(await ping(port)).toBe('+PONG');
    expect(redis(['start'])).toMatchObject({ code: 0, stdout: first.stdout });

    expect(redis(['stop']).code).toBe(0);
    expectNothingLeft(port);
  });

  it('names a taken REDIS_PORT and the variable to change, and leaves nothing behind', async (context) => {
    const port = await freePort();
    const holder = await holdPort(port);
    try {
      const run = start(context, port);
      expect(run.code).toBe(1);
      expect(lastLine(run.stderr)).toMatch(
        new RegExp(`^redis\\.sh: error: port ${port} is already in use by another process.*; set REDIS_PORT to a free port$`),
      );
      expectNothingLeft(port);
    } finally {
      holder.close();
    }
  });

  it('stops the server it launched when it never answers PING, naming REDIS_START_TIMEOUT', async () => {
    const port = await freePort();
    // Runs with the config file on its command line like the real one, and never listens.
    const bin = await fakeRedisServer('trap "exit 0" TERM\nwhile :; do sleep 0.1; done');
    const run = redis(['start'], port, { PATH: `${bin}:${process.env.PATH ?? ''}`, REDIS_START_TIMEOUT: '2' });
    expect(run.code).toBe(1);
    expect(lastLine(run.stderr)).toBe(`redis.sh: error: Redis did not answer PING on 127.0.0.1:${port} within 2 s (REDIS_START_TIMEOUT); it was stopped`);
    expect(run.stderr).toMatch(/redis\.sh: stopping the Redis process this start launched \(pid \d+\)/);
    expectNothingLeft(port, ['log']);
  });

  it('says that the server stopped during start-up, showing its log, and leaves nothing running', async () => {
    const port = await freePort();
    const bin = await fakeRedisServer('echo "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***"\nexit 1');
    const run = redis(['start'], port, { PATH: `${bin}:${process.env.PATH ?? ''}` });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('FATAL CONFIG FILE ERROR');
    expect(lastLine(run.stderr)).toBe(`redis.sh: error: Redis stopped during start-up (last lines of ${home}/redis-${port}.log above)`);
    expectNothingLeft(port, ['log']);
  });

  it('rejects a REDIS_PORT that is not a port number, naming it', () => {
    const run = redis(['start'], 70000);
    expect(run.code).toBe(1);
    expect(lastLine(run.stderr)).toBe("redis.sh: error: REDIS_PORT must be a port number, got '70000'");
  });
});
