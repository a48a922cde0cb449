import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck, type CheckOptions } from '../../../connector/apps/check/check.js';
import type { CommandOutput } from '../../../connector/adapters/airbyte/command-output.js';
import { SAMPLE_TOPICS } from '../../../connector/tools/sample-events.js';
import { startSandbox, type Sandbox } from '../../../connector/tools/sandbox/server.js';
import { protocolMessage } from '../../support/airbyte-protocol.js';
import { writeAirbyteWorkspace, type Workspace } from '../../support/airbyte-workspace.js';
import { createTestTopics, ROOT, type TestTopics } from '../../support/delivery-harness.js';
import { startFakeRegistry, type FakeRegistry } from '../../support/fake-registry.js';
import { testBrokers, uniqueTopic } from '../../support/kafka.js';

type Field = { name: string; type: unknown; default?: unknown };
type RecordSchema = { name: string; fields: Field[] };

let sandbox: Sandbox;
let registry: FakeRegistry;
let topics: TestTopics;

beforeAll(async () => {
  topics = await createTestTopics(uniqueTopic('check-evolution'), 1);
  sandbox = await startSandbox();
  registry = await startFakeRegistry();
});

afterAll(async () => {
  await sandbox.close();
  await registry.close();
});

/** The shipped CRM schema, which the delivery tests' mapping reads. */
function crmSchema(): RecordSchema & { fields: (Field & { type: RecordSchema })[] } {
  return JSON.parse(readFileSync(join(ROOT, 'schemas', 'crm-customer-updated.avsc'), 'utf8')) as never;
}

/** The CRM schema with `edit` applied to a copy, written into the workspace as `name`. */
function candidate(space: Workspace, name: string, edit: (schema: ReturnType<typeof crmSchema>) => void): string {
  const schema = crmSchema();
  edit(schema);
  const file = join(space.dir, name);
  writeFileSync(file, JSON.stringify(schema));
  return file;
}

const customerOf = (schema: ReturnType<typeof crmSchema>) => schema.fields.find((f) => f.name === 'customer')?.type as RecordSchema;
const eventTypeOf = (schema: ReturnType<typeof crmSchema>) => schema.fields.find((f) => f.name === 'eventType')?.type as unknown as { symbols: string[] };

/** Runs `check` as the CLI does; the exit code, the one stdout line's status and its failed probes. */
async function check(options: Omit<CheckOptions, 'logLevel' | 'exitCode'>) {
  let stdout = '';
  const output: CommandOutput = { out: (text) => (stdout += text), err: () => undefined };
  const code = await runCheck({ ...options, exitCode: true, logLevel: 'silent' }, output);
  expect(stdout.split('\n').filter(Boolean)).toHaveLength(1);
  const { connectionStatus } = protocolMessage(stdout.trim(), 'CONNECTION_STATUS') as { connectionStatus: { status: string; message: string } };
  const failures = connectionStatus.message
    .split('\n')
    .slice(1)
    .filter((l) => !l.startsWith('passed: ') && !l.startsWith('not checked: '));
  return { code, ...connectionStatus, failures };
}

/** `line:column` of the first line of the workspace's mapping.yaml that contains `text`, value part. */
function positionOf(space: Workspace, text: string): string {
  const lines = readFileSync(join(space.dir, 'mapping.yaml'), 'utf8').split('\n');
  const line = lines.findIndex((l) => l.includes(text));
  return `${line + 1}:${(lines[line] as string).indexOf(text) + 1}`;
}

describe('check --schema-file --topic: a candidate schema before it is deployed', () => {
  const crmTopic = () => topics.byKind[SAMPLE_TOPICS.crm];

  it('a renamed field the mapping reads fails the check (exit 1), named at its mapping file:line:column', async () => {
    const space = writeAirbyteWorkspace({ targetUrl: sandbox.url, topics, kafka: { brokers: testBrokers() } });
    const schemaFile = candidate(space, 'renamed.avsc', (s) => {
      const email = customerOf(s).fields.find((f) => f.name === 'email') as Field;
      email.name = 'emailAddress';
    });
    const { code, status, failures } = await check({ config: space.config, schemaFile, topic: crmTopic() });
    expect(status).toBe('FAILED');
    expect(code).toBe(1);
    expect(failures).toEqual([
      `mapping: ${join(space.dir, 'mapping.yaml')}:${positionOf(space, 'customer.email')} mappings[0].attributes.email.path: path customer.email no longer resolves in schema com.acme.crm.CustomerUpdated: record com.acme.crm.Customer has no field "email" (candidate schema ${schemaFile})`,
    ]);
  });

  it('an enum symbol removed that a `when` compares with is named at the condition value', async () => {
    const space = writeAirbyteWorkspace({ targetUrl: sandbox.url, topics, kafka: { brokers: testBrokers() } });
    const schemaFile = candidate(space, 'no-updated.avsc', (s) => {
      eventTypeOf(s).symbols = ['CREATED', 'DELETED', 'MERGED'];
    });
    const { code, failures } = await check({ config: space.config, schemaFile, topic: crmTopic() });
    expect(code).toBe(1);
    expect(failures).toEqual([
      expect.stringMatching(
        /^mapping: .*mapping\.yaml:\d+:\d+ mappings\[0\]\.when\[0\]\.in\[1\]: enum symbol "UPDATED" is gone from an enum com\.acme\.crm\.CustomerEventType/,
      ) as string,
    ]);
  });

  it('a compatible change (an optional field with a default) passes, exit 0, and says what it was held against', async () => {
    const space = writeAirbyteWorkspace({ targetUrl: sandbox.url, topics, kafka: { brokers: testBrokers() } });
    const schemaFile = candidate(space, 'compatible.avsc', (s) => {
      customerOf(s).fields.push({ name: 'nickname', type: ['null', 'string'], default: null });
    });
    const { code, status, message } = await check({ config: space.config, schemaFile, topic: crmTopic() });
    expect({ code, status }).toEqual({ code: 0, status: 'SUCCEEDED' });
    expect(message).toContain(`nothing breaks against candidate schema ${schemaFile} for topic ${crmTopic()}`);
  });

  it('a topic the mapping does not read is a failed mapping probe', async () => {
    const space = writeAirbyteWorkspace({ targetUrl: sandbox.url, topics, kafka: { brokers: testBrokers() } });
    const schemaFile = candidate(space, 'same.avsc', () => undefined);
    const { code, failures } = await check({ config: space.config, schemaFile, topic: 'nobody.reads.this' });
    expect(code).toBe(1);
    expect(failures).toEqual([expect.stringMatching(/^mapping: --topic nobody\.reads\.this is not mapped in .*mapping\.yaml \(its topics: /) as string]);
  });
});

describe('check with a schema registry: the latest version, or every one', () => {
  it('passes on a compatible latest version, and --all-versions names the older version the reader schema cannot read', async () => {
    const space = writeAirbyteWorkspace({ targetUrl: sandbox.url, topics, kafka: { brokers: testBrokers() }, schemaRegistry: { url: registry.url } });
    const subject = `${topics.byKind[SAMPLE_TOPICS.crm]}-value`;
    const unreadable = crmSchema();
    eventTypeOf(unreadable).symbols.push('ARCHIVED');
    registry.register(subject, 901, crmSchema(), 1);
    registry.register(subject, 902, unreadable, 2);
    registry.register(subject, 903, crmSchema(), 3);

    const latest = await check({ config: space.config });
    expect({ code: latest.code, status: latest.status }).toEqual({ code: 0, status: 'SUCCEEDED' });
    expect(latest.message).toContain('nothing breaks against 1 latest version(s) of 1 registry subject(s)');

    const all = await check({ config: space.config, allVersions: true });
    expect(all.code).toBe(1);
    expect(all.failures).toEqual([
      `mapping: ${join(space.dir, 'mapping.yaml')} the mapping's reader schema com.acme.crm.CustomerUpdated cannot read events written with com.acme.crm.CustomerUpdated: field eventType can be ARCHIVED in the writer schema, which enum com.acme.crm.CustomerEventType of the reader schema does not have (and it has no default) (registry subject ${subject} version 2)`,
    ]);
    expect(registry.hits.get(`/subjects/${encodeURIComponent(subject)}/versions/2`)).toBe(1);
  });
});
