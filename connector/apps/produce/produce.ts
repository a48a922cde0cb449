/**
 * `produce`: puts test events on a mapped topic without writing a producer. JSON lines are read
 * with the topic's Avro schema exactly as `preview` and `write` read JSON, all of them checked
 * before anything is sent (a bad line produces nothing), then encoded the way `run` decodes:
 * plain Avro without a schema_registry, Confluent framing (magic 0 + schema id) with one.
 */
import { readFile } from 'node:fs/promises';
import type { Type } from 'avsc';
import { Partitioners, type Kafka, type Message, type PartitionMetadata } from 'kafkajs';
import { toDecodedValue } from '../../adapters/avro/json-values.js';
import { loadConfig } from '../../adapters/config/load.js';
import { createKafka } from '../../adapters/kafka/client.js';
import { loadConfiguredMapping } from '../../adapters/mapping-file/load.js';
import { createRegistryClient, valueSubject, type RegistryClient } from '../../adapters/registry/registry.js';
import type { Config } from '../../core/config.js';
import { describeError } from '../../core/errors.js';
import { parseMappingDocument, type CompiledMapping } from '../../core/mapping/index.js';
import { compileGetter, parsePath, resolvePathType, type Getter } from '../../core/mapping/paths.js';
import { createLogger, type LogLevel } from '../../observe/logger.js';

export interface ProduceOptions {
  config: string;
  topic: string;
  /** A JSON lines file, or `-` for stdin. */
  input: string;
  /** Field path whose value keys each message; the mapping's identity path unless given. */
  key?: string;
  logLevel?: LogLevel;
}

/** Where produce writes: the summary to `out`, problems to `err`. */
export interface ProduceOutput {
  out: (text: string) => void;
  err: (text: string) => void;
  /** The whole of stdin, for `--input -`. */
  stdin: () => Promise<string>;
}

const PROCESS_OUTPUT: ProduceOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  stdin: async () => {
    let text = '';
    for await (const chunk of process.stdin as AsyncIterable<Buffer>) text += chunk.toString('utf8');
    return text;
  },
};

/** Exit codes: every event produced; some line does not fit (nothing produced); config, schema, input or Kafka unusable. */
export const PRODUCE_EXIT = { ok: 0, badLines: 1, unusable: 2 } as const;

/** A reason to stop before producing, already in the user's terms. */
class ProduceStop extends Error {}

/** Bad lines listed in full up to this many; past it, only their count (a wrong file would flood the terminal). */
const MAX_LISTED = 20;
/** Messages per produce request. */
const BATCH = 500;

/** One input line turned into a message value and key. */
interface EventLine {
  value: unknown;
  key: string | null;
}

/**
 * Validates every line, then produces them all and prints `produced N events to T: partition P: n, ...`.
 * Returns the exit code (PRODUCE_EXIT).
 */
export async function runProduce(options: ProduceOptions, output: ProduceOutput = PROCESS_OUTPUT): Promise<number> {
  const logger = createLogger({ name: 'produce', level: options.logLevel ?? 'warn' });
  let registry: RegistryClient | undefined;
  try {
    const config = await loadConfig(options.config);
    const mapping = await loadConfiguredMapping(config);
    if (!mapping.topics.includes(options.topic)) {
      throw new ProduceStop(`topic ${options.topic} is not mapped in ${mapping.file}; mapped topics: ${mapping.topics.join(', ')}`);
    }
    registry = config.schema_registry && createRegistryClient(config.schema_registry);
    const { type, registryId } = await schemaOf(mapping, registry, options.topic);
    const keyPath = options.key ?? (await identityPath(mapping.file, options.topic));
    const key = keyGetter(type, keyPath);
    const inputName = options.input === '-' ? 'stdin' : options.input;
    const text = options.input === '-' ? await output.stdin() : await readInput(options.input);
    const { events, problems } = readEvents(text, inputName, options.topic, type, key);
    if (problems.length > 0) {
      const more = problems.length - MAX_LISTED;
      output.err(
        problems
          .slice(0, MAX_LISTED)
          .map((p) => `${p}\n`)
          .join(''),
      );
      output.err(
        `${more > 0 ? `... and ${more} more; ` : ''}${problems.length} of ${problems.length + events.length} lines do not fit the schema of ${options.topic}: nothing was produced\n`,
      );
      return PRODUCE_EXIT.badLines;
    }
    // The mapping's schema is registered only now that every line fits it.
    const schemaId = registryId ?? (registry && (await registry.register(valueSubject(options.topic), type)));
    const messages = events.map((e): Message => ({ key: e.key, value: encode(type, e.value, schemaId) }));
    const counts = await produce(createKafka(config.kafka, logger), config, options.topic, messages);
    output.out(`${summary(options.topic, messages.length, counts, schemaId)}\n`);
    return PRODUCE_EXIT.ok;
  } catch (err) {
    output.err(`produce: ${err instanceof ProduceStop ? err.message : describeError(err).message}\n`);
    return PRODUCE_EXIT.unusable;
  } finally {
    await registry?.close();
  }
}

/** The topic's schema as `run` would read it: the mapping's, else the registry's latest (with its id). */
async function schemaOf(mapping: CompiledMapping, registry: RegistryClient | undefined, topic: string): Promise<{ type: Type; registryId?: number }> {
  const local = mapping.readerSchema(topic);
  if (local) return { type: local };
  if (!registry) throw new ProduceStop(`topic ${topic} has no schema: the mapping names none and no schema_registry is configured`);
  const latest = await registry.latestVersion(valueSubject(topic));
  return { type: latest.type, registryId: latest.id };
}

/** The identity path of the topic's first mapping: one profile's events then share a partition, as in production. */
async function identityPath(mappingFile: string, topic: string): Promise<string> {
  const doc = parseMappingDocument(mappingFile, await readFile(mappingFile, 'utf8'));
  const identity = doc.specs.find((spec) => spec?.topic === topic)?.identity;
  const source = identity?.mbox3rdPartyId ?? identity?.mboxPC;
  const path = typeof source === 'string' ? source : source?.path;
  if (path === undefined) throw new ProduceStop(`the mapping of ${topic} names no identity path; give --key <path>`);
  return path;
}

/** A getter of the key path, checked against the schema so that a typo stops here rather than keying nothing. */
function keyGetter(type: Type, path: string): Getter {
  const parsed = parsePath(path);
  if ('error' in parsed) throw new ProduceStop(`--key ${path}: ${parsed.error}`);
  const resolved = resolvePathType(type, parsed.segments);
  if ('error' in resolved) throw new ProduceStop(`--key ${path}: ${resolved.error}`);
  return compileGetter(parsed.segments);
}

async function readInput(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ProduceStop(`cannot read ${path}: ${(err as Error).message}`);
  }
}

/**
 * Every non-blank line as an event of `type`: the event itself, or preview's `{"topic", "value"}`
 * envelope (so the same sample files serve both). Problems name `file:line`.
 */
function readEvents(text: string, file: string, topic: string, type: Type, key: Getter): { events: EventLine[]; problems: string[] } {
  const events: EventLine[] = [];
  const problems: string[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    const where = `${file}:${index + 1}`;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch (err) {
      problems.push(`${where}: not JSON: ${(err as Error).message}`);
      return;
    }
    let decoded = toDecodedValue(type, data);
    const envelope = decoded.ok ? undefined : asEnvelope(data);
    if (envelope && envelope.topic !== topic) {
      problems.push(`${where}: the line is for topic ${envelope.topic}, not ${topic}`);
      return;
    }
    if (envelope) decoded = toDecodedValue(type, envelope.value);
    if (!decoded.ok) {
      problems.push(`${where}: ${decoded.reason}`);
      return;
    }
    events.push({ value: decoded.value, key: keyText(key(decoded.value)) });
  });
  return { events, problems };
}

function asEnvelope(data: unknown): { topic: string; value: unknown } | undefined {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return undefined;
  const { topic, value, ...rest } = data as Record<string, unknown>;
  return typeof topic === 'string' && value !== undefined && Object.keys(rest).length === 0 ? { topic, value } : undefined;
}

/** The key's bytes as text; an event without a value at the key path gets no key (the partitioner spreads those). */
function keyText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'object' && !(value instanceof Date) ? JSON.stringify(value) : String(value);
}

/** The message value: the Avro body, framed with the schema id when there is a registry. */
function encode(type: Type, value: unknown, schemaId: number | undefined): Buffer {
  const body = type.toBuffer(value);
  if (schemaId === undefined) return body;
  const header = Buffer.alloc(5);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

/** Produces the messages in order, each to the partition Kafka's default partitioner picks for its key; returns the count per partition. */
async function produce(kafka: Kafka, config: Config, topic: string, messages: Message[]): Promise<Map<number, number>> {
  const partitions = await partitionsOf(kafka, config, topic);
  const partitioner = Partitioners.DefaultPartitioner();
  const counts = new Map<number, number>();
  const placed = messages.map((message) => {
    const partition = partitioner({ topic, partitionMetadata: partitions, message });
    counts.set(partition, (counts.get(partition) ?? 0) + 1);
    return { ...message, partition };
  });
  // Idempotent with one request in flight: a retried request neither duplicates nor reorders events.
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  try {
    await kafkaStep(config, 'connect', () => producer.connect());
    for (let i = 0; i < placed.length; i += BATCH) {
      await kafkaStep(config, `produce to ${topic}`, () => producer.send({ topic, acks: -1, messages: placed.slice(i, i + BATCH) }));
    }
  } finally {
    await producer.disconnect();
  }
  return new Map([...counts].sort(([a], [b]) => a - b));
}

/** The topic's partitions; stops with how to create it when it does not exist. */
async function partitionsOf(kafka: Kafka, config: Config, topic: string): Promise<PartitionMetadata[]> {
  const admin = kafka.admin();
  try {
    await kafkaStep(config, 'connect', () => admin.connect());
    const topics = await kafkaStep(config, 'list topics', () => admin.listTopics());
    if (!topics.includes(topic)) {
      throw new ProduceStop(
        `topic ${topic} does not exist on ${config.kafka.brokers.join(',')}; create it first, e.g. kafka-topics.sh --bootstrap-server ${config.kafka.brokers[0] ?? ''} --create --topic ${topic} --partitions 4 (in the checkout: npm run kafka:topics -- --create --topic ${topic} --partitions 4)`,
      );
    }
    const metadata = await kafkaStep(config, `read the partitions of ${topic}`, () => admin.fetchTopicMetadata({ topics: [topic] }));
    return metadata.topics[0]?.partitions ?? [];
  } finally {
    await admin.disconnect();
  }
}

/** Runs one Kafka call, stopping with the brokers and the cause in one line when it fails. */
async function kafkaStep<T>(config: Config, what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ProduceStop) throw err;
    throw new ProduceStop(`cannot ${what} (brokers ${config.kafka.brokers.join(',')}): ${describeError(err).message}`);
  }
}

/** `produced 5 events to crm.customer.updated (schema id 3): partition 0: 2, partition 1: 3`. */
function summary(topic: string, total: number, counts: Map<number, number>, schemaId: number | undefined): string {
  const framing = schemaId === undefined ? 'plain Avro' : `schema id ${schemaId}`;
  const parts = [...counts].map(([partition, count]) => `partition ${partition}: ${count}`);
  return `produced ${total} event${total === 1 ? '' : 's'} to ${topic} (${framing})${parts.length > 0 ? `: ${parts.join(', ')}` : ''}`;
}
