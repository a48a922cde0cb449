/**
 * `target-profile-sink preview`: a dry run. Sample events go through the real decoding, mapping
 * and request building, and the requests that would be sent are printed as JSON lines. No
 * network, except the schema registry when the config names one.
 */
import { readFile } from 'node:fs/promises';
import avro, { type Type } from 'avsc';
import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/types.js';
import { parseAvroSchema } from '../../decode/avro-types.js';
import { createDecoder, type Decoder } from '../../decode/decoder.js';
import { createRegistryClient, valueSubject, type RegistryClient } from '../../decode/registry.js';
import { ConnectorError, describeError } from '../../errors.js';
import { loadConfiguredMapping, type CompiledMapping } from '../../mapping/index.js';
import { requestBuilderFor, type RequestBuilder } from '../../target/request-builder.js';

export interface PreviewOptions {
  config: string;
  input: string;
  /** The input is Avro: an object container file, or one message value (framed when a registry is configured). */
  avro?: boolean;
  /** Topic of Avro input. */
  topic?: string;
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

/** One event of the input: its 1-based number, topic and decoded value (or why it has none). */
type InputEvent = { event: number; topic: string; value: unknown } | { event: number; error: string };

/** Avro object container files start with "Obj" and version byte 1. */
const CONTAINER_MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]);

function invalidFields(type: Type, value: unknown): string {
  const fields: string[] = [];
  type.isValid(value, {
    errorHook: (path, bad) => fields.push(`${path.join('.') || 'value'} = ${JSON.stringify(bad) ?? String(bad)}`),
  });
  return fields.length > 0 ? `invalid ${fields.join(', ')}` : 'does not match the schema';
}

/** The schema JSON events of `topic` are encoded with: the mapping's, else the registry's latest. */
function schemaSource(mapping: CompiledMapping, registry: RegistryClient | undefined): (topic: string) => Promise<Type | undefined> {
  const latest = new Map<string, Promise<Type>>();
  return async (topic: string): Promise<Type | undefined> => {
    const local = mapping.readerSchema(topic);
    if (local || !registry) return local;
    let pending = latest.get(topic);
    if (!pending) {
      pending = registry.latestVersion(valueSubject(topic)).then((v) => v.type);
      latest.set(topic, pending);
    }
    return pending;
  };
}

/** JSON lines `{"topic", "value"}`, each encoded to Avro and decoded back, as the connector would read it. */
async function* jsonEvents(text: string, schemaFor: (topic: string) => Promise<Type | undefined>): AsyncGenerator<InputEvent> {
  let event = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    event += 1;
    let parsed: { topic?: unknown; value?: unknown };
    try {
      parsed = JSON.parse(line) as typeof parsed;
    } catch (err) {
      yield { event, error: `not JSON: ${(err as Error).message}` };
      continue;
    }
    const { topic, value } = parsed ?? {};
    if (typeof topic !== 'string' || value === undefined) {
      yield { event, error: 'expected {"topic": "...", "value": {...}}' };
      continue;
    }
    let type: Type | undefined;
    try {
      type = await schemaFor(topic);
    } catch (err) {
      yield { event, error: describeError(err).message };
      continue;
    }
    if (!type) {
      yield { event, error: `no schema for topic ${topic}: the mapping names none and no registry is configured` };
      continue;
    }
    if (!type.isValid(value)) {
      yield { event, error: `value ${invalidFields(type, value)} for topic ${topic}` };
      continue;
    }
    yield { event, topic, value: type.fromBuffer(type.toBuffer(value)) };
  }
}

/** Records of an Avro object container file, read with the topic's reader schema when there is one. */
async function* containerEvents(path: string, topic: string, reader: Type | undefined): AsyncGenerator<InputEvent> {
  const records = avro.createFileDecoder(path, { parseHook: (schema) => parseAvroSchema(schema), ...(reader && { readerSchema: reader }) });
  let event = 0;
  for await (const value of records) {
    event += 1;
    yield { event, topic, value: value as unknown };
  }
}

/** A single Kafka message value, decoded exactly as `run` decodes it. */
async function* messageEvent(bytes: Buffer, topic: string, decoder: Decoder): AsyncGenerator<InputEvent> {
  try {
    yield { event: 1, topic, value: await decoder.decode(topic, bytes, { topic }) };
  } catch (err) {
    yield { event: 1, error: describeError(err).message };
  }
}

/** Prints the lines for one event; returns false when the event would be dead-lettered. */
function printOutcomes(input: InputEvent, mapping: CompiledMapping, builder: RequestBuilder, print: (line: unknown) => void): boolean {
  if ('error' in input) {
    print({ event: input.event, error: input.error });
    return false;
  }
  const outcomes = mapping.mapEvent(input.topic, input.value);
  if (outcomes.length === 0) {
    print({ event: input.event, error: `no mapping reads topic ${input.topic}` });
    return false;
  }
  let ok = true;
  for (const outcome of outcomes) {
    if (outcome.kind === 'filtered') print({ event: input.event, skipped: outcome.reason });
    else if (outcome.kind === 'error') {
      print({ event: input.event, error: outcome.error.message });
      ok = false;
    } else {
      for (const request of builder.build(outcome.update)) print({ method: request.method, url: request.url, body: request.body });
    }
  }
  return ok;
}

/** The events of the input file, and how to release what reading them needed (registry connections). */
function openInput(
  options: PreviewOptions,
  bytes: Buffer,
  config: Config,
  mapping: CompiledMapping,
): { events: AsyncGenerator<InputEvent>; close(): Promise<void> } {
  if (!options.avro) {
    const registry = config.schema_registry && createRegistryClient(config.schema_registry);
    return { events: jsonEvents(bytes.toString('utf8'), schemaSource(mapping, registry)), close: async () => registry?.close() };
  }
  const topic = options.topic as string;
  if (bytes.subarray(0, CONTAINER_MAGIC.length).equals(CONTAINER_MAGIC)) {
    return { events: containerEvents(options.input, topic, mapping.readerSchema(topic)), close: async () => {} };
  }
  const reader = mapping.readerSchema(topic);
  const decoder = createDecoder({ readerSchemas: new Map(reader ? [[topic, reader]] : []), registry: config.schema_registry });
  return { events: messageEvent(bytes, topic, decoder), close: () => decoder.close() };
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
  const builder = requestBuilderFor(config.target);
  const print = (line: unknown) => output.out(`${JSON.stringify(line)}\n`);
  const input = openInput(options, bytes, config, mapping);
  let allMapped = true;
  try {
    for await (const event of input.events) allMapped = printOutcomes(event, mapping, builder, print) && allMapped;
  } catch (err) {
    output.err(`cannot read ${options.input}: ${(err as Error).message}\n`);
    return 2;
  } finally {
    await input.close();
  }
  return allMapped ? 0 : 1;
}

/** Adds the `preview` subcommand. */
export function registerPreview(program: Command): void {
  program
    .command('preview')
    .description('dry run: map sample events and print the Target requests they would produce (no network but the registry)')
    .requiredOption('--config <file>', 'connector config (YAML or JSON)')
    .requiredOption('--input <file>', 'events: JSON lines {"topic": "...", "value": {...}}, or Avro with --avro')
    .option('--avro', 'the input is an Avro object container file or one raw message value')
    .option('--topic <topic>', 'topic of Avro input')
    .action(async (options: PreviewOptions) => {
      // `preview ... | head` closes stdout early; that is the reader being done, not a failure.
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') process.exit(0);
        throw err;
      });
      process.exitCode = await runPreview(options);
    });
}
