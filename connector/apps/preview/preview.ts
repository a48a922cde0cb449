/**
 * `preview`: a dry run on the event pipeline. Sample events go through the same decoding,
 * mapping, planning and request building as `run`; a recording delivery settles every update at
 * once and the requests it would send are printed as JSON lines. No network, except the schema
 * registry when the config names one.
 */
import { readFile } from 'node:fs/promises';
import avro from 'avsc';
import { loadConfig } from '../../adapters/config/load.js';
import { parseAvroSchema } from '../../core/avro-types.js';
import { createDecoder } from '../../adapters/avro/decoder.js';
import { jsonPayloadDecoder } from '../../adapters/avro/json-values.js';
import { loadConfiguredMapping } from '../../adapters/mapping-file/load.js';
import { createRegistryClient, type RegistryClient } from '../../adapters/registry/registry.js';
import { systemClock } from '../../system/clock.js';
import type { Config } from '../../core/config.js';
import { ConnectorError, describeError } from '../../core/errors.js';
import { projectedSchemasOf, readerSchemasOf, type CompiledMapping } from '../../core/mapping/index.js';
import { OrderedInput } from '../../core/pipeline/ordered-input.js';
import { EventPipeline, type EventOutcome, type PayloadDecoder } from '../../core/pipeline/pipeline.js';
import type { InboundEvent } from '../../core/pipeline/source.js';
import type { TargetRequest } from '../../core/profile.js';
import { JSON_CONTENT_TYPE, type DeliveryRequest } from '../../core/target-api/delivery-request.js';
import { BatchFileBuilder, type BatchFile } from '../../core/target-api/batch-file.js';
import { retryPolicyOf } from '../common/delivery.js';
import { RecordingDelivery } from '../common/recording-delivery.js';
import { topicSchemas } from '../common/topic-schemas.js';

export interface PreviewOptions {
  config: string;
  input: string;
  /** The input is Avro: an object container file, or one message value (framed when a registry is configured). */
  avro?: boolean;
  /** Topic of Avro input. */
  topic?: string;
  /** Show the bulk batch file(s) the thirdPartyId updates would make, instead of single requests. */
  bulk?: boolean;
}

/** Where preview writes: JSON lines to `out`, human messages to `err`. */
export interface PreviewOutput {
  out: (text: string) => void;
  err: (text: string) => void;
}

const PROCESS_OUTPUT: PreviewOutput = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** Avro object container files start with "Obj" and version byte 1. */
const CONTAINER_MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);

/** One event of the input with its 1-based number, or why an input line is no event at all. */
type InputItem = { event: number; topic: string; payload: Buffer } | { event: number; error: string };

/** The input as events, and the decoder that reads their payloads. */
interface PreviewInput {
  items: InputItem[];
  decoder: PayloadDecoder;
  close(): Promise<void>;
}

/** The one ordered input of a preview: its events, numbered in input order. */
const PREVIEW_INPUT = 'preview';

/** One event of the input file. */
class PreviewEvent implements InboundEvent<number> {
  readonly input = PREVIEW_INPUT;
  readonly partition = 0;

  constructor(
    readonly topic: string,
    readonly offset: number,
    readonly payload: Buffer,
  ) {}

  get message(): number {
    return this.offset;
  }

  header(): undefined {
    return undefined;
  }
}

/** JSON lines `{"topic", "value"}`; the value is decoded with the topic's schema, as `write` decodes a RECORD. */
async function jsonInput(text: string, config: Config, mapping: CompiledMapping): Promise<PreviewInput> {
  const items: InputItem[] = [];
  let event = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    event += 1;
    let parsed: { topic?: unknown; value?: unknown };
    try {
      parsed = JSON.parse(line) as typeof parsed;
    } catch (err) {
      items.push({ event, error: `not JSON: ${(err as Error).message}` });
      continue;
    }
    const { topic, value } = parsed ?? {};
    if (typeof topic !== 'string' || value === undefined) items.push({ event, error: 'expected {"topic": "...", "value": {...}}' });
    else items.push({ event, topic, payload: Buffer.from(JSON.stringify(value)) });
  }
  const registry = config.schema_registry && createRegistryClient(config.schema_registry);
  const topics = [...new Set(items.flatMap((i) => ('topic' in i ? [i.topic] : [])))];
  const found = await topicSchemas(mapping, registry, topics);
  const schemas = new Map(found.flatMap((s) => ('type' in s ? [[s.topic, s.type] as const] : [])));
  const reasons = new Map(found.flatMap((s) => ('error' in s ? [[s.topic, s.error] as const] : [])));
  return {
    items,
    decoder: jsonPayloadDecoder(schemas, (topic) => reasons.get(topic) ?? `no schema for topic ${topic}`),
    close: async () => registry?.close(),
  };
}

/** Records of an Avro object container file, re-encoded with the topic's reader schema and decoded as `run` decodes plain Avro. */
async function containerInput(path: string, topic: string, mapping: CompiledMapping): Promise<PreviewInput> {
  const reader = mapping.readerSchema(topic);
  const records = avro.createFileDecoder(path, { parseHook: (schema) => parseAvroSchema(schema), ...(reader && { readerSchema: reader }) });
  const items: InputItem[] = [];
  let writer: avro.Type | undefined;
  records.on('metadata', (type: avro.Type) => (writer = type));
  for await (const value of records) {
    const type = (reader ?? writer) as avro.Type;
    items.push({ event: items.length + 1, topic, payload: type.toBuffer(value) });
  }
  const type = reader ?? writer;
  return { items, decoder: createDecoder({ readerSchemas: new Map(type ? [[topic, type]] : []) }), close: async () => {} };
}

/** A single Kafka message value, decoded exactly as `run` decodes it. */
function messageInput(bytes: Buffer, topic: string, config: Config, mapping: CompiledMapping): PreviewInput {
  const registry: RegistryClient | undefined = config.schema_registry && createRegistryClient(config.schema_registry);
  return {
    items: [{ event: 1, topic, payload: bytes }],
    decoder: createDecoder({ readerSchemas: readerSchemasOf(mapping), registry, projections: projectedSchemasOf(mapping) }),
    close: async () => registry?.close(),
  };
}

async function openInput(options: PreviewOptions, bytes: Buffer, config: Config, mapping: CompiledMapping): Promise<PreviewInput> {
  if (!options.avro) return jsonInput(bytes.toString('utf8'), config, mapping);
  const topic = options.topic as string;
  if (bytes.subarray(0, CONTAINER_MAGIC.length).equals(CONTAINER_MAGIC)) return containerInput(options.input, topic, mapping);
  return messageInput(bytes, topic, config, mapping);
}

/** The batch files the rows make, split at the configured limits. */
function batchFiles(rows: Map<string, Record<string, string>>, config: Config): BatchFile[] {
  const limits = { maxRows: config.delivery.bulk.max_rows, maxBytes: config.delivery.bulk.max_bytes };
  const files: BatchFile[] = [];
  let builder = new BatchFileBuilder(limits);
  for (const [id, attributes] of rows) {
    const row = { id, attributes };
    if (!builder.fits(row)) {
      files.push(builder.build());
      builder = new BatchFileBuilder(limits);
    }
    builder.add(row);
  }
  if (builder.rows > 0) files.push(builder.build());
  return files;
}

/** The lines one event prints, by what the pipeline made of it. */
function linesOf(event: number, outcome: EventOutcome, requests: Array<TargetRequest | DeliveryRequest>): unknown[] {
  switch (outcome.kind) {
    case 'delivered':
      return requests.map((r) =>
        'sessionId' in r
          ? { route: 'realtime', method: r.method, url: r.url, contentType: JSON_CONTENT_TYPE, body: r.body }
          : { method: r.method, url: r.url, body: r.body },
      );
    case 'filtered':
      return [{ event, skipped: outcome.reason }];
    case 'failed':
      return [{ event, error: describeError(outcome.error).message }];
    case 'cancelled':
      return [{ event, error: 'cancelled' }];
  }
}

/** Runs the events through the pipeline one at a time, printing each one's lines; returns whether none would be dead-lettered. */
async function previewEvents(
  input: PreviewInput,
  config: Config,
  mapping: CompiledMapping,
  print: (line: unknown) => void,
  rows?: Map<string, Record<string, string>>,
): Promise<boolean> {
  const delivery = new RecordingDelivery(config.target, rows);
  const file = new OrderedInput<number>(PREVIEW_INPUT);
  let current: ((outcome: EventOutcome) => void) | undefined;
  const pipeline = new EventPipeline<number>({
    source: file,
    decoder: input.decoder,
    mapper: mapping,
    delivery,
    // Nothing is written: the event "would be dead-lettered", which its printed error says.
    deadLetters: { write: async () => {} },
    commits: { intervalMs: 0, threshold: 1 },
    maxPending: Number.MAX_SAFE_INTEGER,
    decodeRetry: retryPolicyOf(config.delivery),
    clock: systemClock,
    // Without an outage budget decoding waits out the registry: nothing ends a preview early.
    observer: { settled: (_event, outcome) => current?.(outcome) },
  });
  await pipeline.start();
  let allMapped = true;
  for (const item of input.items) {
    if ('error' in item) {
      print({ event: item.event, error: item.error });
      allMapped = false;
      continue;
    }
    delivery.clear();
    const settled = new Promise<EventOutcome>((resolve) => (current = resolve));
    await file.push(new PreviewEvent(item.topic, item.event, item.payload));
    const outcome = await settled;
    for (const line of linesOf(item.event, outcome, delivery.requests)) print(line);
    allMapped &&= outcome.kind !== 'failed';
  }
  return allMapped;
}

/**
 * Runs the dry run, printing one JSON line per request, skipped event or error. Returns the exit
 * code: 0 when every event maps, 1 when some would be dead-lettered, 2 when config, mapping or
 * input cannot be used.
 */
export async function runPreview(options: PreviewOptions, output: PreviewOutput = PROCESS_OUTPUT): Promise<number> {
  if (options.avro && !options.topic) {
    output.err('--avro needs --topic: Avro bytes do not say which topic they belong to\n');
    return 2;
  }
  let config: Config;
  let mapping: CompiledMapping;
  let bytes: Buffer;
  try {
    config = await loadConfig(options.config);
    mapping = await loadConfiguredMapping(config);
    bytes = await readFile(options.input);
  } catch (err) {
    output.err(`${err instanceof ConnectorError ? err.message : `cannot read input: ${(err as Error).message}`}\n`);
    return 2;
  }
  // With --bulk stdout is the batch file itself, ready for `curl --data-binary`; the other lines go to stderr.
  const print = (line: unknown) => (options.bulk ? output.err : output.out)(`${JSON.stringify(line)}\n`);
  const rows = options.bulk ? new Map<string, Record<string, string>>() : undefined;
  let input: PreviewInput | undefined;
  try {
    input = await openInput(options, bytes, config, mapping);
    const allMapped = await previewEvents(input, config, mapping, print, rows);
    if (rows) for (const file of batchFiles(rows, config)) output.out(file.text);
    return allMapped ? 0 : 1;
  } catch (err) {
    output.err(`cannot read ${options.input}: ${(err as Error).message}\n`);
    return 2;
  } finally {
    await input?.close();
  }
}
