/**
 * `run`'s start-up against the real broker: every failure ends the process non-zero with one line
 * in the operator's terms (which topic, which broker, which login, which registry), never a stack
 * trace, and never a process left half-started; /healthz answers while the group is joined.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { RUN_EXIT } from '../../../connector/apps/run/run.js';
import { SAMPLE_TOPICS } from '../../../connector/tools/sample-events.js';
import { framed, startFakeRegistry } from '../../support/fake-registry.js';
import { runChild } from '../../support/child-run.js';
import { createTestTopics, exitOf, produceEvents, sampleEvents, TestResources, waitFor, writeWorkspace } from '../../support/delivery-harness.js';
import { uniqueTopic } from '../../support/kafka.js';

const resources = new TestResources();
afterEach(() => resources.closeAll());

/** Rewrites the workspace's config.yaml through `edit`. */
function editConfig(path: string, edit: (config: Record<string, Record<string, unknown>>) => void): string {
  const config = parse(readFileSync(path, 'utf8')) as Record<string, Record<string, unknown>>;
  edit(config);
  writeFileSync(path, stringify(config));
  return path;
}

/** A TCP port nobody listens on (just released). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The child's whole stderr, as text. */
function stderrOf(child: ReturnType<typeof runChild>['child']): () => string {
  let text = '';
  child.stderr?.on('data', (chunk: Buffer | string) => (text += String(chunk)));
  return () => text;
}

describe('run start-up', () => {
  it('a mapped topic that does not exist: exit 2, one line naming it and how to create it', async () => {
    const topics = await createTestTopics(uniqueTopic('missing'), 1);
    const target = await resources.sandbox();
    const config = writeWorkspace({ topics, targetUrl: target.url, groupId: `${topics.prefix}.g` });
    const absent = `${topics.prefix}.absent`;
    const mappingPath = config.replace(/config\.yaml$/, 'mapping.yaml');
    writeFileSync(mappingPath, readFileSync(mappingPath, 'utf8').replace(topics.byKind[SAMPLE_TOPICS.crm], absent));
    const port = await freePort();
    editConfig(config, (c) => (c.metrics = { port }));
    const { child } = runChild(resources, config);
    const stderr = stderrOf(child);
    expect((await exitOf(child)).code).toBe(RUN_EXIT.invalid);
    const lines = stderr()
      .trim()
      .split('\n')
      .filter((l) => !l.includes('metrics on /metrics'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`mapped topic(s) ${absent} do not exist`);
    expect(lines[0]).toContain(`bash scripts/kafka.sh topics --create --topic ${absent}`);
  }, 60_000);

  it('unreachable brokers: exit 1 after kafkajs gives up, one line naming the address, no stack trace', async () => {
    const topics = await createTestTopics(uniqueTopic('nobroker'), 1);
    const target = await resources.sandbox();
    const dead = `127.0.0.1:${await freePort()}`;
    const config = editConfig(writeWorkspace({ topics, targetUrl: target.url, groupId: `${topics.prefix}.g` }), (c) => (c.kafka!.brokers = [dead]));
    const { child } = runChild(resources, config);
    const stderr = stderrOf(child);
    expect((await exitOf(child)).code).toBe(RUN_EXIT.failed);
    const lines = stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^cannot reach Kafka at ${dead}: Connection error: connect ECONNREFUSED ${dead}; gave up after \\d+ attempts; check kafka\\.brokers and that the brokers run$`,
      ),
    );
  }, 60_000);

  it('a SASL login the listener refuses: exit 2, one line naming the user and mechanism, never the password', async () => {
    const topics = await createTestTopics(uniqueTopic('sasl'), 1);
    const target = await resources.sandbox();
    const config = editConfig(writeWorkspace({ topics, targetUrl: target.url, groupId: `${topics.prefix}.g` }), (c) => {
      c.kafka!.sasl = { mechanism: 'scram-sha-256', username: 'alice', password: 'pw-not-to-print' };
    });
    const { child } = runChild(resources, config);
    const stderr = stderrOf(child);
    expect((await exitOf(child)).code).toBe(RUN_EXIT.invalid);
    const lines = stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Kafka at 127\.0\.0\.1:\d+ refused user alice \(SASL SCRAM-SHA-256\): /);
    expect(stderr()).not.toContain('pw-not-to-print');
  }, 60_000);

  it('a schema registry down past the outage budget: exit 1, the last line names the registry without its credentials', async () => {
    const topics = await createTestTopics(uniqueTopic('registry'), 1);
    const events = sampleEvents(50, 20, 73).filter((e) => e.topic === SAMPLE_TOPICS.crm);
    await produceEvents(topics, events, 1, [], (avro) => framed(7, avro));
    const registry = await startFakeRegistry();
    resources.add(() => registry.close());
    registry.failNext(1_000_000, 503);
    const target = await resources.sandbox();
    const withCredentials = registry.url.replace('http://', 'http://svc:registry-secret@');
    const config = writeWorkspace({
      topics,
      targetUrl: target.url,
      groupId: `${topics.prefix}.g`,
      schemaRegistryUrl: withCredentials,
      delivery: { outage_budget_ms: 1500 },
    });
    const { child, lines } = runChild(resources, config);
    const stderr = stderrOf(child);
    expect((await exitOf(child)).code).toBe(RUN_EXIT.failed);
    const stopping = lines().find((l) => String(l.msg).startsWith('stopping:'));
    expect(stopping?.msg).toContain(`the registry is ${registry.url}`);
    expect(stderr()).not.toContain('registry-secret');
    expect(lines().filter((l) => (l.level as number) >= 50)).toHaveLength(1);
  }, 60_000);

  it('a SIGTERM while the run is still starting stops it cleanly once started: exit 0, never killed half-way', async () => {
    const topics = await createTestTopics(uniqueTopic('early-term'), 1);
    const target = await resources.sandbox();
    const run = runChild(resources, writeWorkspace({ topics, targetUrl: target.url, groupId: `${topics.prefix}.g` }));
    // The first line comes while the run starts; on a loaded machine it may come in one chunk with
    // "consuming", so the signal lands during start-up or just after: either way it must stop cleanly.
    await waitFor('the first log line', () => run.lines().length > 0, 30_000, 5);
    run.child.kill('SIGTERM');
    expect(await exitOf(run.child)).toEqual({ code: RUN_EXIT.ok, signal: null });
    expect(run.lines().some((l) => l.msg === 'stopped cleanly')).toBe(true);
  }, 60_000);

  it('/healthz answers from the start and while the group is joined; /readyz only once consuming', async () => {
    const topics = await createTestTopics(uniqueTopic('health'), 2);
    await produceEvents(topics, sampleEvents(500, 100, 74), 2);
    const target = await resources.sandbox({ latencyMs: 5 });
    const port = await freePort();
    const config = editConfig(writeWorkspace({ topics, targetUrl: target.url, groupId: `${topics.prefix}.g` }), (c) => (c.metrics = { port }));
    // A member killed without leaving holds the group until its session times out (10 s): a long join to watch.
    const first = runChild(resources, config);
    await waitFor('the first run to deliver', () => target.stats().updates > 20, 30_000, 20);
    first.child.kill('SIGKILL');
    await exitOf(first.child);
    const second = runChild(resources, config);
    const status = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined))?.status;
    // Not ready means not joined yet: the process answers /healthz all the same.
    await waitFor('/healthz 200 while /readyz is 503', async () => (await status('/healthz')) === 200 && (await status('/readyz')) === 503, 20_000, 20);
    await waitFor('the restart to join', () => second.lines().some((l) => l.msg === 'joined consumer group'), 30_000, 100);
    await waitFor('/readyz to turn ready', async () => (await status('/readyz')) === 200, 10_000, 50);
  }, 90_000);
});
