import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCheck, type CheckOptions } from '../../../connector/apps/check/check.js';
import type { CommandOutput } from '../../../connector/adapters/airbyte/command-output.js';
import { SAMPLE_TOPICS } from '../../../connector/tools/sample-events.js';
import { protocolMessage } from '../../support/airbyte-protocol.js';
import { writeAirbyteWorkspace, type Workspace } from '../../support/airbyte-workspace.js';
import { ROOT } from '../../support/delivery-harness.js';
import { startFakeRegistry, type FakeRegistry } from '../../support/fake-registry.js';

// Nothing listens on port 9: not the workspace's brokers (its default), not Target, not a registry.
const NOBODY = 'http://127.0.0.1:9';
const TOPIC = SAMPLE_TOPICS.crm;

type Field = { name: string; type: unknown; default?: unknown };
type Schema = { fields: Array<Field & { type: { fields: Field[] } }> };

let registry: FakeRegistry;

beforeAll(async () => {
  registry = await startFakeRegistry();
});

afterAll(async () => {
  await registry.close();
});

/** The shipped CRM schema (the workspace mapping's reader schema for TOPIC) with `edit` applied. */
function crmSchema(edit: (customerFields: Field[]) => void = () => undefined): Schema {
  const schema = JSON.parse(readFileSync(join(ROOT, 'schemas', 'crm-customer-updated.avsc'), 'utf8')) as Schema;
  edit(schema.fields.find((f) => f.name === 'customer')!.type.fields);
  return schema;
}

const renameEmail = (fields: Field[]) => (fields.find((f) => f.name === 'email')!.name = 'emailAddress');
const addNickname = (fields: Field[]) => fields.push({ name: 'nickname', type: ['null', 'string'], default: null });

/** Writes the CRM schema with `edit` applied into the workspace as `name`; returns its path. */
function candidate(space: Workspace, name: string, edit: (customerFields: Field[]) => void): string {
  const file = join(space.dir, name);
  writeFileSync(file, JSON.stringify(crmSchema(edit)));
  return file;
}

/** `line:column` of `text` in the workspace's mapping.yaml. */
function positionOf(space: Workspace, text: string): string {
  const lines = readFileSync(join(space.dir, 'mapping.yaml'), 'utf8').split('\n');
  const line = lines.findIndex((l) => l.includes(text));
  return `${line + 1}:${lines[line]!.indexOf(text) + 1}`;
}

/** The CONNECTION_STATUS of one stdout, with its failure lines and its "not checked:" line. */
function statusOf(stdout: string) {
  expect(stdout.split('\n').filter(Boolean)).toHaveLength(1);
  const { connectionStatus } = protocolMessage(stdout.trim(), 'CONNECTION_STATUS') as { connectionStatus: { status: string; message: string } };
  const lines = connectionStatus.message.split('\n').slice(1);
  return {
    ...connectionStatus,
    failures: lines.filter((l) => !l.startsWith('passed: ') && !l.startsWith('not checked: ')),
    notChecked: lines.find((l) => l.startsWith('not checked: ')),
  };
}

/** Runs `check --exit-code` as the CLI does, in process. */
async function check(options: Omit<CheckOptions, 'logLevel' | 'exitCode'>) {
  let stdout = '';
  const output: CommandOutput = { out: (text) => (stdout += text), err: () => undefined };
  const code = await runCheck({ ...options, exitCode: true, logLevel: 'silent' }, output);
  return { code, ...statusOf(stdout) };
}

const OFFLINE_SKIPS =
  'not checked: brokers (--offline: Kafka not reached), topics (--offline: Kafka not reached), dead-letter topic (--offline: Kafka not reached), ' +
  'schema registry (not configured), Target endpoint (--offline: Target not reached), quota store (--offline: the quota store not reached)';

describe('check --offline: the config and the mapping, for CI without Kafka or Target', () => {
  it('the binary: a renamed field fails with exit 1 naming the mapping file:line:column only; the other probes are listed as not checked', () => {
    const space = writeAirbyteWorkspace({ targetUrl: NOBODY });
    const schemaFile = candidate(space, 'renamed.avsc', renameEmail);
    const args = ['check', '--config', space.config, '--offline', '--schema-file', schemaFile, '--topic', TOPIC, '--exit-code', '--log-level', 'silent'];
    const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'connector/cli/main.ts'), ...args], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status).toBe(1);
    const { status, failures, notChecked } = statusOf(run.stdout);
    expect(status).toBe('FAILED');
    expect(failures).toEqual([
      `mapping: ${join(space.dir, 'mapping.yaml')}:${positionOf(space, 'customer.email')} mappings[0].attributes.email.path: path customer.email no longer resolves in schema com.acme.crm.CustomerUpdated: record com.acme.crm.Customer has no field "email" (candidate schema ${schemaFile})`,
    ]);
    expect(notChecked).toBe(OFFLINE_SKIPS);
  }, 60_000);

  it('without --offline the same check also fails on the brokers and Target it cannot reach', async () => {
    const space = writeAirbyteWorkspace({ targetUrl: NOBODY });
    const schemaFile = candidate(space, 'renamed.avsc', renameEmail);
    const { code, failures } = await check({ config: space.config, schemaFile, topic: TOPIC });
    expect(code).toBe(1);
    expect(failures.map((l) => l.slice(0, l.indexOf(':')))).toEqual(['brokers', 'mapping', 'Target endpoint']);
  });

  it('a compatible candidate passes offline (exit 0), saying what it was held against and what it did not check', async () => {
    const space = writeAirbyteWorkspace({ targetUrl: NOBODY });
    const schemaFile = candidate(space, 'compatible.avsc', addNickname);
    const { code, status, message } = await check({ config: space.config, schemaFile, topic: TOPIC, offline: true });
    expect({ code, status }).toEqual({ code: 0, status: 'SUCCEEDED' });
    expect(message).toContain(`nothing breaks against candidate schema ${schemaFile} for topic ${TOPIC}`);
    expect(message).toContain('brokers: --offline: Kafka not reached');
    expect(message).toContain('Target endpoint: --offline: Target not reached');
  });

  it('a configured registry is not probed on its own: unreachable, it does not fail a check that needs none of its schemas', async () => {
    const space = writeAirbyteWorkspace({ targetUrl: NOBODY, schemaRegistry: { url: NOBODY } });
    const schemaFile = candidate(space, 'compatible.avsc', addNickname);
    const { code, message } = await check({ config: space.config, schemaFile, topic: TOPIC, offline: true });
    expect(code).toBe(0);
    expect(message).toContain('schema registry: --offline: not probed on its own; asked only for the schemas the mapping probe needs');
  });

  it('a configured registry is still asked for the versions the mapping is held against: a breaking latest version fails offline', async () => {
    const space = writeAirbyteWorkspace({ targetUrl: NOBODY, schemaRegistry: { url: registry.url } });
    registry.register(`${TOPIC}-value`, 911, crmSchema(renameEmail), 1);
    const { code, failures } = await check({ config: space.config, offline: true });
    expect(code).toBe(1);
    expect(failures).toEqual([
      expect.stringMatching(
        /^mapping: .*mapping\.yaml:\d+:\d+ mappings\[0\]\.attributes\.email\.path: path customer\.email no longer resolves .*\(registry subject crm\.customer\.updated-value version 1\)$/,
      ) as string,
    ]);
  });
});
