/**
 * One pipeline behind three entry points: the same events through `run` (Kafka), `write` (Airbyte
 * stdin) and `preview` (recording, no network) end the same way, event by event — the same
 * requests, the same dead-letter reasons.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import avro from 'avsc';
import { Partitioners } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runPreview } from '../../connector/apps/preview/preview.js';
import { runWrite } from '../../connector/apps/write/write.js';
import { DLQ_HEADERS } from '../../connector/adapters/kafka/headers.js';
import { createLogger } from '../../connector/observe/logger.js';
import { allCommitted, startTestSink, TestResources, waitFor, type Produced } from '../support/delivery-harness.js';
import { createTopics, testBrokers, testKafka, uniqueTopic } from '../support/kafka.js';
import { testTempDir } from '../support/test-run.js';

const resources = new TestResources();
afterEach(() => resources.closeAll());

const SCHEMA = {
  type: 'record',
  name: 'Visit',
  namespace: 'test.same',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'pc', type: 'string' },
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['A', 'B', 'C'] } },
    { name: 'tier', type: 'string' },
    { name: 'at', type: 'string' },
    { name: 'note', type: 'string' },
  ],
};
const type = avro.Type.forSchema(SCHEMA as avro.Schema);

type Visit = { id: string; pc: string; kind: 'A' | 'B' | 'C'; tier: string; at: string; note: string };

/** Every case the pipeline decides, one profile each so that no two events' updates merge. */
const EVENTS: Array<{ name: string; value: Visit }> = [
  { name: 'both mappings send', value: { id: 'v1', pc: 'pc1', kind: 'A', tier: 'GOLD', at: '2026-01-02T03:04:05Z', note: 'Malmö & Co' } },
  { name: 'first mapping filtered', value: { id: 'v2', pc: 'pc2', kind: 'C', tier: 'SILVER', at: '2026-01-02T03:04:05Z', note: 'x' } },
  { name: 'second mapping fails', value: { id: 'v3', pc: 'pc3', kind: 'A', tier: 'GOLD', at: 'not a time', note: 'x' } },
  { name: 'bad identity', value: { id: 'v/4', pc: 'pc4', kind: 'B', tier: 'GOLD', at: '2026-01-02T03:04:05Z', note: 'x' } },
  { name: 'value over 256 characters, rejected', value: { id: 'v5', pc: 'pc5', kind: 'A', tier: 'T'.repeat(300), at: '2026-01-02T03:04:05Z', note: 'x' } },
  { name: 'value over the POST body limit', value: { id: 'v6', pc: 'pc6', kind: 'A', tier: 'GOLD', at: '2026-01-02T03:04:05Z', note: 'å'.repeat(30_000) } },
  { name: 'empty identity', value: { id: 'v7', pc: '', kind: 'A', tier: 'GOLD', at: '2026-01-02T03:04:05Z', note: 'x' } },
  { name: 'every mapping filtered', value: { id: 'v8', pc: 'pc8', kind: 'C', tier: 'NONE', at: '2026-01-02T03:04:05Z', note: 'x' } },
];

/** What an event came to: the requests Target got for it (method, identity, attributes), or its dead-letter reason. */
type Outcome = { requests: string[] } | { deadLetter: string };

function mapping(topic: string, schemaFile: string): unknown {
  return {
    version: 1,
    mappings: [
      {
        topic,
        schema: schemaFile,
        identity: { mbox3rdPartyId: 'id' },
        when: [{ path: 'kind', in: ['A', 'B'] }],
        long_values: 'reject',
        attributes: { tier: 'tier', note: 'note' },
      },
      {
        topic,
        schema: schemaFile,
        identity: { mboxPC: 'pc' },
        when: [{ path: 'tier', not_in: ['NONE'] }],
        long_values: 'allow',
        attributes: { seenAt: { path: 'at', transform: 'iso8601' }, note: 'note' },
      },
    ],
  };
}

/** A request as Target reads it, whatever its form (GET query or POST body). */
function describeRequest(method: string, identity: string, attributes: Record<string, string>): string {
  const attrs = Object.entries(attributes)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v.length > 40 ? `${v.slice(0, 10)}…(${v.length})` : v}`);
  return `${method} ${identity} ${attrs.join(' ')}`;
}

/** The profile each event updates, to tell its requests apart. */
const owner = new Map(EVENTS.flatMap((e, i) => [[`mbox3rdPartyId:${e.value.id}`, i] as const, [`mboxPC:${e.value.pc}`, i] as const]));

function outcomesFromTarget(
  updates: Array<{ method: string; identity: { kind: string; value: string }; attributes: Record<string, string> }>,
  letters: Map<number, string>,
): Outcome[] {
  return EVENTS.map((_, i) => {
    const letter = letters.get(i);
    if (letter !== undefined) return { deadLetter: letter };
    const requests = updates
      .filter((u) => owner.get(`${u.identity.kind}:${u.identity.value}` as never) === i)
      .map((u) => describeRequest(u.method, `${u.identity.kind}:${u.identity.value}`, u.attributes));
    return { requests: requests.sort() };
  });
}

/** Dead letters of a topic: event index (by the position header) → `code: message`. */
async function deadLetters(topic: string, count: number, positionOf: (offset: string) => number): Promise<Map<number, string>> {
  const consumer = testKafka('same-outcome-dlq').consumer({ groupId: uniqueTopic('same-outcome-dlq') });
  const letters = new Map<number, string>();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    void consumer.run({
      eachMessage: async ({ message }) => {
        const h = (name: string) => String(message.headers?.[name] ?? '');
        letters.set(positionOf(h(DLQ_HEADERS.sourceOffset)), `${h(DLQ_HEADERS.errorCode)}: ${h(DLQ_HEADERS.errorMessage)}`);
      },
    });
    await waitFor(`${count} dead letters in ${topic}`, () => letters.size >= count, 30_000);
  } finally {
    await consumer.disconnect();
  }
  return letters;
}

describe('run, write and preview', () => {
  it('end every event the same way: same requests, same dead-letter reasons', async () => {
    const dir = await testTempDir('same-outcome');
    const schemaFile = join(dir, 'visit.avsc');
    await writeFile(schemaFile, JSON.stringify(SCHEMA));
    const topic = uniqueTopic('same.visits');
    const runDlq = uniqueTopic('same.run-dlq');
    const writeDlq = uniqueTopic('same.write-dlq');
    await createTopics([topic, runDlq, writeDlq]);
    await writeFile(join(dir, 'mapping.yaml'), stringify(mapping(topic, schemaFile)));
    const runTarget = await resources.sandbox();
    const writeTarget = await resources.sandbox();
    const config = (targetUrl: string, dlq: string) => ({
      kafka: { brokers: testBrokers(), group_id: uniqueTopic('same.group'), from_beginning: true, session_timeout_ms: 10_000 },
      target: { client_code: 'acme', base_url: targetUrl, timeout_ms: 2000 },
      mapping_file: 'mapping.yaml',
      delivery: { dead_letter_topic: dlq, commit_interval_ms: 100, initial_backoff_ms: 20, max_backoff_ms: 200 },
      metrics: { port: 0 },
    });
    const runConfig = join(dir, 'run.yaml');
    const writeConfig = join(dir, 'write.yaml');
    await writeFile(runConfig, stringify(config(runTarget.url, runDlq)));
    await writeFile(writeConfig, stringify(config(writeTarget.url, writeDlq)));

    // run: the events as plain Avro on one partition, offsets 0..n-1.
    const producer = testKafka('same-outcome').producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: EVENTS.map((e) => ({ key: e.value.id, value: type.toBuffer(e.value), partition: 0 })) });
    await producer.disconnect();
    const produced: Produced[] = EVENTS.map((e, i) => ({ event: { topic: 'x', key: e.value.id, value: e.value } as never, topic, partition: 0, offset: i }));
    const running = await startTestSink(runConfig);
    resources.add(() => running.stop());
    await waitFor('run to commit every event', () => allCommitted(running.groupId, produced), 60_000, 100);
    const expectedLetters = 5;
    const fromRun = outcomesFromTarget(runTarget.updates(), await deadLetters(runDlq, expectedLetters, (offset) => Number(offset)));

    // write: the same data as RECORD messages; a record's position is its number in the input.
    const catalog = join(dir, 'catalog.json');
    await writeFile(
      catalog,
      JSON.stringify({ streams: [{ stream: { name: topic, json_schema: {} }, sync_mode: 'incremental', destination_sync_mode: 'append' }] }),
    );
    const lines = EVENTS.map((e) => `${JSON.stringify({ type: 'RECORD', record: { stream: topic, data: e.value, emitted_at: 1 } })}\n`);
    const written = await runWrite(
      { config: writeConfig, catalog },
      { input: Readable.from(lines), output: { out: () => {}, err: () => {} }, logger: createLogger({ level: 'silent' }) },
    );
    expect(written).toBe(0);
    const fromWrite = outcomesFromTarget(writeTarget.updates(), await deadLetters(writeDlq, expectedLetters, (offset) => Number(offset)));

    // preview: the same events as JSON lines; it prints requests, skips and errors per event.
    const input = join(dir, 'events.jsonl');
    await writeFile(input, EVENTS.map((e) => JSON.stringify({ topic, value: e.value })).join('\n'));
    let out = '';
    await runPreview({ config: runConfig, input }, { out: (t) => (out += t), err: () => {} });
    const printed = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { method?: string; url?: string; body?: string; event?: number; error?: string });
    const previewLetters = new Map(printed.filter((p) => p.error !== undefined).map((p) => [(p.event as number) - 1, p.error as string]));
    const previewRequests = printed
      .filter((p) => p.method !== undefined)
      .map((p) => {
        const url = new URL(p.url as string);
        const params = new URLSearchParams(p.method === 'POST' ? (p.body as string) : url.search);
        const query = new URLSearchParams(url.search);
        const [kind, value] = [...query].find(([k]) => k === 'mbox3rdPartyId' || k === 'mboxPC') as [string, string];
        const attributes = Object.fromEntries([...params].filter(([k]) => k.startsWith('profile.')).map(([k, v]) => [k.slice('profile.'.length), v]));
        return { method: p.method as string, identity: { kind, value }, attributes };
      });
    const fromPreview = outcomesFromTarget(previewRequests, previewLetters);

    // Preview names no error code; compare the reasons by their message.
    const messageOnly = (outcomes: Outcome[]) => outcomes.map((o) => ('deadLetter' in o ? { deadLetter: o.deadLetter.replace(/^[A-Z_]+: /, '') } : o));
    expect(fromWrite).toEqual(fromRun);
    expect(messageOnly(fromPreview)).toEqual(messageOnly(fromRun));

    // And the outcomes are the ones each case calls for.
    const kinds = fromRun.map((o) => ('deadLetter' in o ? o.deadLetter.split(':')[0] : `${o.requests.length} request(s)`));
    expect(Object.fromEntries(EVENTS.map((e, i) => [e.name, kinds[i]]))).toEqual({
      'both mappings send': '2 request(s)',
      'first mapping filtered': '1 request(s)',
      'second mapping fails': 'UNMAPPABLE_EVENT',
      'bad identity': 'UNMAPPABLE_EVENT',
      'value over 256 characters, rejected': 'UNMAPPABLE_EVENT',
      'value over the POST body limit': 'UNMAPPABLE_EVENT',
      'empty identity': 'UNMAPPABLE_EVENT',
      'every mapping filtered': '0 request(s)',
    });
  }, 120_000);
});
