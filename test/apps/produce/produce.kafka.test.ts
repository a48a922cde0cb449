/**
 * `produce` against the real broker: JSON lines in, Avro messages out (plain, or framed through a
 * registry), read back with kafkajs and decoded with avsc; bad lines produce nothing.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Type } from 'avsc';
import { afterEach, describe, expect, it } from 'vitest';
import { runProduce, type ProduceOptions } from '../../../connector/apps/produce/produce.js';
import { createDecoder } from '../../../connector/adapters/avro/decoder.js';
import { createRegistryClient } from '../../../connector/adapters/registry/registry.js';
import { parseAvroSchema } from '../../../connector/core/avro-types.js';
import { ROOT } from '../../support/delivery-harness.js';
import { startFakeRegistry, type FakeRegistry } from '../../support/fake-registry.js';
import { createTopics, testBrokers, testKafka, uniqueTopic } from '../../support/kafka.js';
import { testTempDir } from '../../support/test-run.js';

const SCHEMA_FILE = join(ROOT, 'schemas/crm-customer-updated.avsc');
const schemaJson = JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as unknown;
const type: Type = parseAvroSchema(schemaJson);
/** The sample CRM events, as bare values (the examples wrap them in preview's envelope). */
const EVENTS = readFileSync(join(ROOT, 'examples/events/crm-customer-updated.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => (JSON.parse(line) as { value: { customer: { id: string } } }).value);

let registry: FakeRegistry | undefined;
afterEach(async () => {
  await registry?.close();
  registry = undefined;
});

/** A config and a mapping of `topic` in a fresh folder; the mapping names the schema file unless `withSchema` is false. */
async function setup(topic: string, options: { registryUrl?: string; withSchema?: boolean } = {}): Promise<{ dir: string; config: string }> {
  const dir = await testTempDir('produce');
  const schemaLine = options.withSchema === false ? '' : `    schema: ${SCHEMA_FILE}\n`;
  await writeFile(
    join(dir, 'mapping.yaml'),
    `version: 1\nmappings:\n  - topic: ${topic}\n${schemaLine}    identity: { mbox3rdPartyId: customer.id }\n    attributes: { tier: customer.tier }\n`,
  );
  const registryLine = options.registryUrl ? `schema_registry: { url: ${options.registryUrl} }\n` : '';
  await writeFile(
    join(dir, 'config.yaml'),
    `kafka: { brokers: [${testBrokers().join(', ')}], group_id: ${uniqueTopic('produce-group')} }\n${registryLine}target: { client_code: acme }\nmapping_file: mapping.yaml\n`,
  );
  return { dir, config: join(dir, 'config.yaml') };
}

async function writeLines(dir: string, lines: unknown[]): Promise<string> {
  const path = join(dir, 'events.jsonl');
  await writeFile(path, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return path;
}

/** Runs produce in-process, capturing what it prints. */
async function produce(options: ProduceOptions): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runProduce(options, { out: (t) => (out += t), err: (t) => (err += t), stdin: async () => '' });
  return { code, out, err };
}

interface Read {
  partition: number;
  key: string | null;
  value: Buffer;
}

/** Every message of `topic`, read from the beginning until `count` arrived. */
async function readBack(topic: string, count: number): Promise<Read[]> {
  const consumer = testKafka('produce-reader').consumer({ groupId: uniqueTopic('produce-reader'), maxWaitTimeInMs: 100 });
  const read: Read[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${read.length} of ${count} messages of ${topic}`)), 20_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          read.push({ partition, key: message.key?.toString('utf8') ?? null, value: message.value as Buffer });
          if (read.length === count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return read;
}

async function messageCount(topic: string): Promise<number> {
  const admin = testKafka('produce-count').admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

/** What avsc alone makes of an input event: the value a consumer should decode. */
const expected = (event: unknown): unknown => type.fromBuffer(type.toBuffer(event));

describe('produce', () => {
  it('produces plain Avro keyed by the identity path, and reads back equal to the input', async () => {
    const topic = uniqueTopic('crm');
    await createTopics([topic], 3);
    const { dir, config } = await setup(topic);
    // One line in preview's envelope: the example files serve both commands.
    const input = await writeLines(dir, [...EVENTS.slice(0, -1), { topic, value: EVENTS.at(-1) }]);

    const { code, out, err } = await produce({ config, topic, input });
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(new RegExp(`^produced ${EVENTS.length} events to ${topic.replace(/\./g, '\\.')} \\(plain Avro\\): partition \\d+: \\d+`));

    const read = await readBack(topic, EVENTS.length);
    const byKey = new Map<string | null, Read[]>();
    for (const r of read) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
    for (const [key, rs] of byKey) {
      const inputs = EVENTS.filter((e) => e.customer.id === key);
      // In input order per key, all on one partition.
      expect(rs.map((r) => type.fromBuffer(r.value))).toEqual(inputs.map(expected));
      expect(new Set(rs.map((r) => r.partition)).size).toBe(1);
    }
    expect([...byKey.keys()].sort()).toEqual([...new Set(EVENTS.map((e) => e.customer.id))].sort());
    // What run decodes: the values produce wrote are the ones the connector reads.
    const decoder = createDecoder({ readerSchemas: new Map([[topic, type]]) });
    expect(read.map((r) => decoder.decode(topic, r.value))).toEqual(expect.arrayContaining(EVENTS.map(expected)));
    // The summary counts what the partitions hold.
    for (const [, partition, count] of out.matchAll(/partition (\d+): (\d+)/g)) {
      expect(read.filter((r) => r.partition === Number(partition))).toHaveLength(Number(count));
    }
  });

  it('keys by --key when given', async () => {
    const topic = uniqueTopic('crm-key');
    await createTopics([topic]);
    const { dir, config } = await setup(topic);
    const input = await writeLines(dir, EVENTS.slice(0, 2));
    expect((await produce({ config, topic, input, key: 'eventType' })).code).toBe(0);
    expect((await readBack(topic, 2)).map((r) => r.key)).toEqual(EVENTS.slice(0, 2).map((e) => (e as unknown as { eventType: string }).eventType));
    expect(await produce({ config, topic, input, key: 'customer.nope' })).toMatchObject({ code: 2, err: expect.stringContaining('--key customer.nope') });
  });

  it('reports every bad line as file:line with the field and the type it expects, and produces nothing', async () => {
    const topic = uniqueTopic('crm-bad');
    await createTopics([topic]);
    const { dir, config } = await setup(topic);
    const badTier = { ...EVENTS[1], customer: { ...EVENTS[1]!.customer, tier: 'GLD' } };
    const input = await writeLines(dir, [EVENTS[0], badTier, '{"eventId": ', EVENTS[2]]);

    const { code, out, err } = await produce({ config, topic, input });
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toContain(`${input}:2: does not match schema`);
    expect(err).toMatch(/customer\.tier = "GLD" \(expected an enum [\w.]+\)/);
    expect(err).toContain(`${input}:3: not JSON`);
    expect(err).toContain('2 of 4 lines do not fit the schema');
    expect(err).toContain('nothing was produced');
    expect(await messageCount(topic)).toBe(0);
  });

  it('frames values with the schema id it registers under <topic>-value', async () => {
    registry = await startFakeRegistry();
    const topic = uniqueTopic('crm-framed');
    await createTopics([topic]);
    const { dir, config } = await setup(topic, { registryUrl: registry.url });
    const input = await writeLines(dir, EVENTS.slice(0, 3));

    const first = await produce({ config, topic, input });
    expect(first).toMatchObject({ code: 0, err: '' });
    const id = Number(/\(schema id (\d+)\)/.exec(first.out)?.[1]);
    expect(registry.hits.get(`/subjects/${encodeURIComponent(`${topic}-value`)}/versions`)).toBe(1);
    // Producing again finds the same id rather than registering a new version.
    expect((await produce({ config, topic, input })).out).toContain(`(schema id ${id})`);

    const registered = parseAvroSchema(JSON.parse(registry.schemaById(id) ?? 'null'));
    const read = await readBack(topic, 6);
    const client = createRegistryClient({ url: registry.url });
    try {
      const decoder = createDecoder({ readerSchemas: new Map([[topic, type]]), registry: client });
      for (const [i, r] of read.entries()) {
        expect(r.value[0]).toBe(0);
        expect(r.value.readInt32BE(1)).toBe(id);
        expect(registered.fromBuffer(r.value.subarray(5))).toEqual(expected(EVENTS[i % 3]));
        // run's decoder fetches the writer schema by that id and reads the same value.
        expect(await decoder.decode(topic, r.value)).toEqual(expected(EVENTS[i % 3]));
      }
    } finally {
      await client.close();
    }
  });

  it("uses the registry's latest schema when the mapping names none", async () => {
    registry = await startFakeRegistry();
    const topic = uniqueTopic('crm-latest');
    await createTopics([topic]);
    registry.register(`${topic}-value`, 41, schemaJson);
    const { dir, config } = await setup(topic, { registryUrl: registry.url, withSchema: false });
    const input = await writeLines(dir, EVENTS.slice(0, 1));
    expect((await produce({ config, topic, input })).out).toContain('(schema id 41)');
    const [r] = await readBack(topic, 1);
    expect(r?.value.readInt32BE(1)).toBe(41);
  });

  it('names an unmapped topic and a topic missing on the broker', async () => {
    const topic = uniqueTopic('crm-missing');
    const { dir, config } = await setup(topic);
    const input = await writeLines(dir, EVENTS.slice(0, 1));
    expect(await produce({ config, topic: 'not.mapped', input })).toMatchObject({ code: 2, err: expect.stringContaining(`topic not.mapped is not mapped`) });
    const missing = await produce({ config, topic, input });
    expect(missing.code).toBe(2);
    expect(missing.err).toContain(`topic ${topic} does not exist`);
    expect(missing.err).toContain('--create --topic');
  });

  it('reads stdin with --input - from the command line', async () => {
    const topic = uniqueTopic('crm-stdin');
    await createTopics([topic]);
    const { config } = await setup(topic);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'connector/cli/main.ts'), 'produce', '--config', config, '--topic', topic, '--input', '-'],
      {
        cwd: ROOT,
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdin.end(
      EVENTS.slice(0, 2)
        .map((e) => JSON.stringify(e))
        .join('\n'),
    );
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^produced 2 events to .* \(plain Avro\): partition 0: 2\n$/);
    expect(await readBack(topic, 2)).toHaveLength(2);
  }, 60_000);
});
