import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { Kafka, logLevel, Partitioners, type IHeaders, type KafkaMessage, type Producer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { runReplayDeadLetters } from '../../../connector/apps/replay/replay-command.js';
import { registerReplayDeadLetters } from '../../../connector/cli/commands/replay-dead-letters.js';
import { loadConfig } from '../../../connector/adapters/config/load.js';
import { DeadLetterWriter } from '../../../connector/adapters/kafka/dead-letter-writer.js';
import { DLQ_HEADERS } from '../../../connector/adapters/kafka/headers.js';
import { replayDeadLetters, replayGroupId, type ReplaySummary } from '../../../connector/apps/replay/replay.js';
import { REPLAYED_FROM_HEADER } from '../../../connector/apps/replay/replay-plan.js';
import { DecodeError, TargetError } from '../../../connector/core/errors.js';
import { createLogger } from '../../../connector/observe/logger.js';
import { createTopics, testBrokers, testKafka, uniqueTopic } from '../../support/kafka.js';
import { testTempDir } from '../../support/test-run.js';

const logger = createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent' });
const NOTHING: ReplaySummary = { replayed: 0, trimmed: 0, superseded: 0, skipped: 0, unmatched: 0, byTopic: {} };

// The replay maps letters with the configured mapping to trim what later events set; these
// letters' topics are not mapped (and their bytes are no Avro), so they are replayed whole.
const UNRELATED_MAPPING = {
  version: 1,
  mappings: [
    {
      topic: 'replay.unrelated',
      schema: join(import.meta.dirname, '../../../schemas/crm-customer-updated.avsc'),
      identity: { mbox3rdPartyId: 'customer.id' },
      attributes: { tier: 'customer.tier' },
    },
  ],
};

/** A config file for the replay: the Kafka settings, the dead-letter topic and a mapping of other topics. */
async function writeConfig(groupId: string, deadLetterTopic: string): Promise<string> {
  const dir = await testTempDir('replay');
  const config = {
    kafka: { brokers: testBrokers(), group_id: groupId, session_timeout_ms: 10_000 },
    target: { client_code: 'acme', base_url: 'http://127.0.0.1:9' },
    mapping_file: 'mapping.yaml',
    delivery: { dead_letter_topic: deadLetterTopic },
    metrics: { port: 0 },
  };
  const path = join(dir, 'config.yaml');
  await writeFile(path, stringify(config));
  await writeFile(join(dir, 'mapping.yaml'), stringify(UNRELATED_MAPPING));
  return path;
}

interface Read {
  partition: number;
  message: KafkaMessage;
}

/** Every record of `topic` up to its current end, read with a throwaway group. */
async function readTopic(topic: string): Promise<Read[]> {
  const kafka = testKafka('replay-test-reader');
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const total = ends.reduce((sum, e) => sum + Number(e.high) - Number(e.low), 0);
  if (total === 0) return [];
  const consumer = kafka.consumer({ groupId: uniqueTopic('replay-test-reader'), maxWaitTimeInMs: 100 });
  const read: Read[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${read.length} of ${total} records of ${topic}`)), 20_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          read.push({ partition, message });
          if (read.length === total) {
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

/** Waits until `topic` partition 0's last stable offset (what read_committed readers see) reaches `end`. */
async function untilStableEnd(topic: string, end: number): Promise<void> {
  const admin = testKafka('replay-test-lso').admin();
  await admin.connect();
  try {
    for (let i = 0; i < 100; i++) {
      const [p0] = await admin.fetchTopicOffsets(topic);
      if (Number(p0?.high) >= end) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${topic} never reached stable offset ${end}`);
  } finally {
    await admin.disconnect();
  }
}

function text(headers: IHeaders | undefined, name: string): string | undefined {
  return headers?.[name]?.toString();
}

describe('replay-dead-letters against the broker', () => {
  const crm = uniqueTopic('replay.crm');
  const loyalty = uniqueTopic('replay.loyalty');
  const dlq = uniqueTopic('replay.dlq');
  const groupId = uniqueTopic('replay.group');
  let producer: Producer;
  let config: string;

  // Values that are not valid UTF-8, so that any text round trip would show.
  const letters = [
    {
      id: 'crm-rejected-1',
      topic: crm,
      error: new TargetError('HTTP 400', false),
      key: Buffer.from([0x00, 0xff, 0x01]),
      value: Buffer.from([0x02, 0xc3, 0x28, 0xfe, 0x00]),
    },
    { id: 'crm-undecodable', topic: crm, error: new DecodeError({ topic: crm }, 'bad bytes'), key: Buffer.from('k2'), value: Buffer.from([0xff, 0xff]) },
    { id: 'crm-rejected-2', topic: crm, error: new TargetError('HTTP 403', false), key: null, value: Buffer.from([0x80, 0x81, 0x82]) },
    { id: 'loyalty-rejected', topic: loyalty, error: new TargetError('HTTP 400', false), key: Buffer.from([0x10]), value: Buffer.from([0x11, 0x12]) },
  ];
  const TRACE = Buffer.from([0xde, 0xad, 0xbe, 0xef]);
  const FILTER = ['--source-topic', crm, '--error-code', 'TARGET_REJECTED'];

  async function writeLetter(l: (typeof letters)[number], offset: number): Promise<void> {
    const writer = new DeadLetterWriter(producer, dlq, logger);
    await writer.write({
      key: l.key,
      value: l.value,
      // A header left by an earlier replay, to prove it is replaced rather than kept.
      headers: { 'letter-id': l.id, trace: TRACE, [REPLAYED_FROM_HEADER]: 'old.dlq[9]@9' },
      topic: l.topic,
      partition: 0,
      offset: String(offset),
      error: l.error,
      attempts: 12,
      failedAt: new Date('2026-01-05T08:00:00Z'),
    });
  }

  async function replay(...args: string[]): Promise<{ code: number; summary: ReplaySummary | undefined }> {
    const options = {
      config,
      sourceTopic: [] as string[],
      errorCode: [] as string[],
      dryRun: args.includes('--dry-run'),
      logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    };
    for (let i = 0; i < args.length; i++) {
      if (args[i] === '--source-topic') options.sourceTopic.push(args[++i] as string);
      if (args[i] === '--error-code') options.errorCode.push(args[++i] as string);
    }
    let out = '';
    const code = await runReplayDeadLetters(options, (t) => (out += t));
    return { code, summary: out === '' ? undefined : (JSON.parse(out) as ReplaySummary) };
  }

  beforeAll(async () => {
    await createTopics([crm, loyalty]);
    await createTopics([dlq], 2);
    producer = testKafka('replay-test-writer').producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    config = await writeConfig(groupId, dlq);
    for (const [i, l] of letters.entries()) await writeLetter(l, i);
    // Not written by the connector: no source topic, so it cannot go anywhere.
    await producer.send({
      topic: dlq,
      acks: -1,
      messages: [{ key: 'x', value: 'y', headers: { 'letter-id': 'orphan', [DLQ_HEADERS.errorCode]: 'TARGET_REJECTED' } }],
    });
  });

  afterAll(async () => {
    await producer?.disconnect();
  });

  it('the command line takes repeated filters and prints the summary as one JSON line on stdout', async () => {
    const program = new Command().exitOverride();
    registerReplayDeadLetters(program);
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const args = ['--source-topic', crm, '--source-topic', loyalty, '--error-code', 'TARGET_REJECTED', '--error-code', 'DECODE_FAILED'];
      await program.parseAsync(['replay-dead-letters', '--config', config, ...args, '--dry-run', '--log-level', 'silent'], { from: 'user' });
      expect(write.mock.calls.map(([chunk]) => String(chunk))).toEqual([
        `${JSON.stringify({ replayed: 4, trimmed: 0, superseded: 0, skipped: 1, unmatched: 0, byTopic: { [crm]: 3, [loyalty]: 1 } })}\n`,
      ]);
      expect(process.exitCode).toBe(0);
    } finally {
      write.mockRestore();
      process.exitCode = undefined;
    }
  });

  it('--dry-run reports what it would replay, and produces and commits nothing', async () => {
    const { code, summary } = await replay(...FILTER, '--dry-run');
    expect(code).toBe(0);
    expect(summary).toEqual({ replayed: 2, trimmed: 0, superseded: 0, skipped: 1, unmatched: 2, byTopic: { [crm]: 2 } });
    expect(await readTopic(crm)).toEqual([]);
    expect(await readTopic(loyalty)).toEqual([]);
    const admin = testKafka('replay-test-admin').admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({ groupId: replayGroupId(groupId), topics: [dlq] });
    await admin.disconnect();
    expect(committed?.partitions.every((p) => p.offset === '-1')).toBe(true);
  });

  it('replays exactly the matching letters, byte for byte, with rewritten headers; a second run replays nothing', async () => {
    const { code, summary } = await replay(...FILTER);
    expect(code).toBe(0);
    expect(summary).toEqual({ replayed: 2, trimmed: 0, superseded: 0, skipped: 1, unmatched: 2, byTopic: { [crm]: 2 } });

    const origin = new Map((await readTopic(dlq)).map((r) => [text(r.message.headers, 'letter-id'), `${dlq}[${r.partition}]@${r.message.offset}`]));
    const replayed = (await readTopic(crm)).map((r) => r.message);
    const expected = letters.filter((l) => l.id.startsWith('crm-rejected'));
    expect(replayed.map((m) => text(m.headers, 'letter-id')).sort()).toEqual(expected.map((l) => l.id).sort());
    for (const l of expected) {
      const message = replayed.find((m) => text(m.headers, 'letter-id') === l.id) as KafkaMessage;
      expect(message.key).toEqual(l.key);
      expect(message.value).toEqual(l.value);
      expect(message.headers).toEqual({ 'letter-id': Buffer.from(l.id), trace: TRACE, [REPLAYED_FROM_HEADER]: Buffer.from(origin.get(l.id) as string) });
    }
    expect(await readTopic(loyalty)).toEqual([]);

    expect(await replay(...FILTER)).toEqual({ code: 0, summary: NOTHING });
    expect(await readTopic(crm)).toHaveLength(2);
  });

  it('a later run replays only the letters written since', async () => {
    await writeLetter({ ...letters[0]!, id: 'crm-rejected-3' }, 99);
    expect((await replay('--dry-run')).summary).toEqual({ replayed: 1, trimmed: 0, superseded: 0, skipped: 0, unmatched: 0, byTopic: { [crm]: 1 } });
    expect((await replay()).summary).toEqual({ replayed: 1, trimmed: 0, superseded: 0, skipped: 0, unmatched: 0, byTopic: { [crm]: 1 } });
    const ids = (await readTopic(crm)).map((r) => text(r.message.headers, 'letter-id')).sort();
    expect(ids).toEqual(['crm-rejected-1', 'crm-rejected-2', 'crm-rejected-3']);
    expect((await replay()).summary).toEqual(NOTHING);
  });

  it('reports a missing config as an error, with no summary', async () => {
    let out = '';
    const errors = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const code = await runReplayDeadLetters({ config: join(tmpdir(), 'no-such-config.yaml'), logLevel: 'silent' }, (t) => (out += t));
      expect(code).toBe(2);
      expect(String(errors.mock.calls[0]?.[0])).toContain('cannot read the config file');
    } finally {
      errors.mockRestore();
    }
    expect(out).toBe('');
  });
});

describe('replay edge cases', () => {
  it('treats a dead-letter topic that does not exist as nothing to replay, without creating it', async () => {
    const dlq = uniqueTopic('replay.never-written');
    const config = await loadConfig(await writeConfig(uniqueTopic('replay.none-group'), dlq));
    expect(await replayDeadLetters(config, { filter: { sourceTopics: [], errorCodes: [] }, dryRun: false }, logger)).toEqual(NOTHING);
    const admin = testKafka('replay-test-admin').admin();
    await admin.connect();
    const topics = await admin.listTopics();
    await admin.disconnect();
    expect(topics).not.toContain(dlq);
  });

  it('ends at transaction markers instead of waiting for letters that never come', async () => {
    const source = uniqueTopic('replay.txn-source');
    const dlq = uniqueTopic('replay.txn-dlq');
    await createTopics([source, dlq]);
    const config = await loadConfig(await writeConfig(uniqueTopic('replay.txn-group'), dlq));
    const letter = (id: string) => ({ key: id, value: Buffer.from([0x01, 0xff]), headers: { 'letter-id': id, [DLQ_HEADERS.sourceTopic]: source } });
    // Silent: the transaction coordinator's warm-up errors are retried by kafkajs and are no finding.
    const kafka = new Kafka({ clientId: 'replay-test-txn', brokers: testBrokers(), logLevel: logLevel.NOTHING });
    const plain = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const transactional = kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      transactionalId: uniqueTopic('replay-txn'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await plain.connect();
    await transactional.connect();
    const options = { filter: { sourceTopics: [], errorCodes: [] }, dryRun: false, stallTimeoutMs: 8_000 };
    try {
      await plain.send({ topic: dlq, acks: -1, messages: [letter('plain')] });
      const committed = await transactional.transaction();
      await committed.send({ topic: dlq, messages: [letter('committed')] });
      await committed.commit();
      // commit() returns before the broker wrote the markers; until then the committed letter is
      // past the last stable offset, where a replay rightly stops.
      await untilStableEnd(dlq, 3);
      // The partition now ends with a commit marker: no letter will ever have the last offset.
      expect(await replayDeadLetters(config, options, logger)).toEqual({
        replayed: 2,
        trimmed: 0,
        superseded: 0,
        skipped: 0,
        unmatched: 0,
        byTopic: { [source]: 2 },
      });

      const aborted = await transactional.transaction();
      await aborted.send({ topic: dlq, messages: [letter('aborted')] });
      await aborted.abort();
      await untilStableEnd(dlq, 5);
      // Only an aborted letter and its marker are new: kafkajs never hands such a batch to eachBatch.
      expect(await replayDeadLetters(config, options, logger)).toEqual({ replayed: 0, trimmed: 0, superseded: 0, skipped: 0, unmatched: 0, byTopic: {} });
      expect((await readTopic(source)).map((r) => text(r.message.headers, 'letter-id')).sort()).toEqual(['committed', 'plain']);
    } finally {
      await transactional.disconnect();
      await plain.disconnect();
    }
  }, 60_000);
});
