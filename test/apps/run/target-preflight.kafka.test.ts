/**
 * Before consuming, `run` and `backfill` send `check`'s Target probe: a wrong client code ends the
 * start with `check`'s hint instead of looking like an endless outage; an unreachable Target is an
 * outage, warned about and waited out.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { BACKFILL_EXIT, runBackfill } from '../../../connector/apps/backfill/backfill.js';
import { RUN_EXIT } from '../../../connector/apps/run/run.js';
import {
  committedOffsets,
  createTestTopics,
  exitOf,
  produceEvents,
  sampleEvents,
  spawnRun,
  TestResources,
  waitFor,
  writeWorkspace,
  type WorkspaceOptions,
} from '../../support/delivery-harness.js';
import { uniqueTopic } from '../../support/kafka.js';

const resources = new TestResources();
afterEach(() => resources.closeAll());

/** Writes the workspace, then changes the config's `target` section. */
function workspaceWithTarget(options: WorkspaceOptions, target: Record<string, unknown>): string {
  const path = writeWorkspace(options);
  const config = parse(readFileSync(path, 'utf8')) as { target: Record<string, unknown> };
  Object.assign(config.target, target);
  writeFileSync(path, stringify(config));
  return path;
}

/** `run` as a child, killed after the test; its stderr as text. */
function startRun(config: string) {
  const child = spawnRun(config);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout?.resume();
  resources.add(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exitOf(child);
    }
  });
  return { child, stderr: () => stderr };
}

/** A local port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("run's Target probe before consuming", () => {
  it("a wrong client code: run exits 2 before consuming, with check's hint to check target.client_code and target.path", async () => {
    const topics = await createTestTopics(uniqueTopic('preflight'), 1);
    await produceEvents(topics, sampleEvents(20, 5, 61), 1);
    const target = await resources.sandbox();
    const groupId = `${topics.prefix}.g`;
    const config = workspaceWithTarget({ topics, targetUrl: target.url, groupId }, { client_code: 'acme-typo' });

    const run = startRun(config);
    expect((await exitOf(run.child)).code).toBe(RUN_EXIT.invalid);
    expect(run.stderr()).toContain(
      `target: the update path ${target.url}/m2/acme-typo/profile/update does not exist: check target.client_code (acme-typo) and target.path`,
    );
    // It never consumed: no log line says so, nothing reached Target but the probe, nothing is committed.
    expect(run.stderr()).not.toContain('"consuming"');
    expect(target.stats().updates).toBe(0);
    expect((await committedOffsets(groupId, topics.all)).size).toBe(0);
  }, 60_000);

  it('a wrong client code: backfill exits 2 with the same hint', async () => {
    const topics = await createTestTopics(uniqueTopic('preflight-bf'), 1);
    await produceEvents(topics, sampleEvents(20, 5, 62), 1);
    const target = await resources.sandbox();
    const groupId = `${topics.prefix}.g`;
    const config = workspaceWithTarget({ topics, targetUrl: target.url, groupId }, { client_code: 'acme-typo' });
    let stderr = '';
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    }) as typeof process.stderr.write;
    let code: number;
    try {
      code = await runBackfill({ config, logLevel: 'silent' }, () => {});
    } finally {
      process.stderr.write = write;
    }
    expect(code).toBe(BACKFILL_EXIT.invalid);
    expect(stderr).toContain('check target.client_code (acme-typo) and target.path');
    expect((await committedOffsets(groupId, topics.all)).size).toBe(0);
  }, 60_000);

  it('an unreachable Target is an outage, not a config error: run warns and consumes', async () => {
    const topics = await createTestTopics(uniqueTopic('preflight-down'), 1);
    const groupId = `${topics.prefix}.g`;
    const config = workspaceWithTarget({ topics, targetUrl: `http://127.0.0.1:${await closedPort()}`, groupId }, {});

    const run = startRun(config);
    await waitFor('run to consume', () => run.stderr().includes('"consuming"') || run.child.exitCode !== null, 60_000, 50);
    expect(run.child.exitCode).toBeNull();
    const warning = run
      .stderr()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => String(l.msg).includes('start-up probe'));
    expect(warning).toMatchObject({ level: 40 });
    expect(String(warning?.probe)).toContain('no HTTP answer from');
    run.child.kill('SIGTERM');
    expect((await exitOf(run.child)).code).toBe(RUN_EXIT.ok);
  }, 90_000);
});
