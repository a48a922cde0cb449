import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { protocolLine, type ConnectionStatusMessage } from '../../../connector/adapters/airbyte/messages.js';
import { checkConnection } from '../../../connector/apps/check/check.js';
import { registerCheck } from '../../../connector/cli/commands/check.js';
import { SAMPLE_TOPICS } from '../../../connector/tools/sample-events.js';
import { createLogger } from '../../../connector/observe/logger.js';
import { startSandbox, type Sandbox } from '../../../connector/tools/sandbox/server.js';
import { startFakeRegistry, type FakeRegistry } from '../../support/fake-registry.js';
import { createTestTopics, testMapping, type TestTopics } from '../../support/delivery-harness.js';
import { createTopics, testBrokers, uniqueTopic } from '../../support/kafka.js';
import { lines, protocolMessage } from '../../support/airbyte-protocol.js';
import { writeAirbyteWorkspace, type WorkspaceOptions } from '../../support/airbyte-workspace.js';

const quiet = createLogger({ level: 'silent' });
let sandbox: Sandbox;
let registry: FakeRegistry;
let topics: TestTopics;
/** A port nothing listens on: a sandbox that was started and closed again. */
let deadUrl: string;

beforeAll(async () => {
  topics = await createTestTopics(uniqueTopic('check'), 1);
  sandbox = await startSandbox();
  registry = await startFakeRegistry();
  const closed = await startSandbox();
  deadUrl = closed.url;
  await closed.close();
});

afterAll(async () => {
  await sandbox.close();
  await registry.close();
});

function workspace(options: Partial<WorkspaceOptions> = {}) {
  return writeAirbyteWorkspace({ targetUrl: sandbox.url, topics, kafka: { brokers: testBrokers() }, ...options });
}

/** The CONNECTION_STATUS as printed, with its status and message. */
async function check(config: string) {
  const status = await checkConnection(config, { logger: quiet });
  return { line: protocolLine(status), ...status.connectionStatus };
}

/** The failed probes' lines of a FAILED message. */
function failures(message: string): string[] {
  return message
    .split('\n')
    .slice(1)
    .filter((l) => !l.startsWith('passed: ') && !l.startsWith('not checked: '));
}

describe('check against a real broker and a sandbox', () => {
  it('succeeds when every probe passes, naming what it checked', async () => {
    const { line, status, message: text } = await check(workspace({ schemaRegistry: { url: registry.url } }).config);
    protocolMessage(line, 'CONNECTION_STATUS');
    expect(status).toBe('SUCCEEDED');
    expect(text).toMatch(/^all checks passed: config: .*config\.yaml is valid; brokers: connected to /);
    expect(text).toContain(`topics: 3 mapped topic(s) exist: ${topics.all.join(', ')}`);
    expect(text).toContain(`dead-letter topic: ${topics.deadLetter} exists`);
    expect(text).toContain(`schema registry: ${registry.url}/ answered HTTP 404`);
    expect(text).toContain('mapping: 3 topic(s); every path exists in its schema (3 local, 0 from the registry)');
    expect(text).toContain(
      `Target endpoint: ${sandbox.url}/m2/acme/profile/update accepted an update without attributes: "trueRequest successfully submitted"`,
    );
  });

  it('names a missing topic, a missing dead-letter topic and an unreachable Target, all in one run', async () => {
    const prefix = uniqueTopic('check-missing');
    const partial: TestTopics = {
      prefix,
      byKind: { [SAMPLE_TOPICS.crm]: `${prefix}.crm`, [SAMPLE_TOPICS.loyalty]: `${prefix}.loyalty`, [SAMPLE_TOPICS.transaction]: `${prefix}.txn` },
      deadLetter: `${prefix}.dlq`,
      all: [`${prefix}.crm`, `${prefix}.loyalty`, `${prefix}.txn`],
    };
    await createTopics([`${prefix}.crm`, `${prefix}.loyalty`]);
    const { status, message } = await check(workspace({ topics: partial, targetUrl: deadUrl }).config);
    expect(status).toBe('FAILED');
    expect(failures(message)).toEqual([
      `topics: missing on the brokers: ${prefix}.txn`,
      `dead-letter topic: ${prefix}.dlq does not exist; create it before running (the connector does not create topics)`,
      expect.stringMatching(new RegExp(`^Target endpoint: no HTTP answer from ${deadUrl}/m2/acme/profile/update: .*ECONNREFUSED`)) as string,
    ]);
    expect(message.split('\n')[0]).toBe('3 of 8 checks failed');
  });

  it('names a mapped path missing from the local reader schema, and still checks the rest', async () => {
    const mapping = testMapping(topics) as { mappings: { attributes: Record<string, unknown> }[] };
    (mapping.mappings[0] as { attributes: Record<string, unknown> }).attributes.nickname = 'customer.nickname';
    const { status, message } = await check(workspace({ mapping }).config);
    expect(status).toBe('FAILED');
    const [mappingLine, ...others] = failures(message);
    expect(others).toEqual([]);
    expect(mappingLine).toMatch(
      /^mapping: .*mapping\.yaml:\d+:\d+ mappings\[0\]\.attributes\.nickname: path customer\.nickname is not in schema com\.acme\.crm\.CustomerUpdated/,
    );
    expect(message).toContain('not checked: topics (the mapping did not load)');
    expect(message).toContain('passed: config, brokers, dead-letter topic, Target endpoint');
  });

  it("names a mapped path missing from the registry's latest schema of a topic", async () => {
    const topic = uniqueTopic('check-registry');
    await createTopics([topic]);
    registry.register(`${topic}-value`, 7, { type: 'record', name: 'Signup', fields: [{ name: 'id', type: 'string' }] });
    const mapping = { version: 1, mappings: [{ topic, identity: { mbox3rdPartyId: 'id' }, attributes: { plan: 'plan' } }] };
    const { status, message } = await check(workspace({ mapping, schemaRegistry: { url: registry.url } }).config);
    expect(status).toBe('FAILED');
    expect(failures(message)).toEqual([
      expect.stringMatching(new RegExp(`^mapping: .*attributes\\.plan: path plan is not in schema Signup.*\\(registry subject ${topic}-value\\)$`)) as string,
    ]);
  });

  it('fails fast on a dead broker and skips the topic probes', async () => {
    const started = Date.now();
    const { status, message } = await check(workspace({ kafka: { brokers: ['127.0.0.1:9'] } }).config);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(status).toBe('FAILED');
    expect(failures(message)).toEqual(['brokers: no broker accepts connections: 127.0.0.1:9 (ECONNREFUSED)']);
    expect(message).toContain('not checked: topics (brokers unreachable), dead-letter topic (brokers unreachable)');
  });

  it('gives up on a broker that accepts connections but never answers, within the deadline', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const broker = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const config = workspace({ kafka: { brokers: [broker] } }).config;
      const started = Date.now();
      const status = await checkConnection(config, { logger: quiet, kafkaTimeouts: { connectMs: 1000, adminMs: 1500 } });
      expect(Date.now() - started).toBeLessThan(4000);
      expect(failures(status.connectionStatus.message)).toEqual([`brokers: cannot talk to Kafka at ${broker}: no answer within 1500 ms`]);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('never prints a secret, whatever the probes report', async () => {
    const secrets = ['sasl-Pa55word!', 'registry-Pa55word', 'url-Pa55word', 'target-T0ken'];
    const dir = workspace().dir;
    const config = join(dir, 'secret-config.yaml');
    writeFileSync(
      config,
      stringify({
        kafka: { brokers: testBrokers(), sasl: { mechanism: 'plain', username: 'svc', password: secrets[0] } },
        schema_registry: { url: `http://svc:${secrets[2]}@127.0.0.1:9/`, username: 'svc', password: secrets[1] },
        target: { client_code: 'acme', base_url: deadUrl, token: secrets[3] },
        mapping_file: 'mapping.yaml',
        delivery: { dead_letter_topic: topics.deadLetter },
      }),
    );
    const { line, status, message } = await check(config);
    expect(status).toBe('FAILED');
    // The broker speaks no SASL, the registry and Target do not listen: every secret-bearing probe fails.
    expect(failures(message).map((l) => l.split(':')[0])).toEqual(['brokers', 'schema registry', 'Target endpoint']);
    expect(message).toContain('http://127.0.0.1:9/');
    for (const secret of secrets) expect(line).not.toContain(secret);
  });
});

describe('check without a usable config', () => {
  it('reports an unreadable config file as the failed config probe', async () => {
    const { status, message } = await check('/nonexistent/config.yaml');
    expect(status).toBe('FAILED');
    expect(message).toBe('1 of 1 checks failed\nconfig: /nonexistent/config.yaml cannot read the config file: no such file');
  });

  it('is registered as a subcommand printing exactly one CONNECTION_STATUS line, exit code 0', async () => {
    const dir = workspace().dir;
    const config = join(dir, 'invalid.yaml');
    writeFileSync(config, 'kafka: { brokers: [] }\n');
    const chunks: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    });
    const program = new Command().exitOverride();
    registerCheck(program);
    await program.parseAsync(['check', '--config', config, '--log-level', 'silent'], { from: 'user' });
    vi.restoreAllMocks();
    expect(chunks.join('').endsWith('\n')).toBe(true);
    const output = lines(chunks.join(''));
    expect(output).toHaveLength(1);
    const { connectionStatus } = protocolMessage<ConnectionStatusMessage>(output[0], 'CONNECTION_STATUS');
    expect(connectionStatus.status).toBe('FAILED');
    expect(connectionStatus.message).toMatch(/^1 of 1 checks failed\nconfig: .*invalid\.yaml/);
    expect(process.exitCode ?? 0).toBe(0);
  });
});
