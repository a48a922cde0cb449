/**
 * `write`: Airbyte destination mode. RECORD messages on stdin go through the event pipeline and
 * the delivery `run` uses; each STATE is echoed once every record before it is acknowledged. A
 * record that fails for good goes to the dead-letter topic when one is configured; otherwise the
 * sync fails (TRACE ERROR, non-zero exit) and no STATE after that record is echoed. Unusable
 * lines are LOG messages; an unusable config, catalog, mapping or schema stops the command.
 */
import { readFile } from 'node:fs/promises';
import type { Type } from 'avsc';
import { Partitioners } from 'kafkajs';
import { configuredStreams } from '../../adapters/airbyte/catalog.js';
import { PROCESS_OUTPUT, reportFatal, type CommandOutput } from '../../adapters/airbyte/command-output.js';
import { writeRecords, type AirbyteRecord } from './destination.js';
import { requireSchemas, topicSchemas } from '../common/topic-schemas.js';
import { loadConfig } from '../../adapters/config/load.js';
import type { SchemaRegistryConfig } from '../../core/config.js';
import { createRegistryClient } from '../../adapters/registry/registry.js';
import { ConfigError, ConnectorError, describeError } from '../../core/errors.js';
import type { CompiledMapping } from '../../core/mapping/index.js';
import { createLogger, type Logger } from '../../observe/logger.js';
import { createDeliveryEngine, retryPolicyOf } from '../common/delivery.js';
import { usesRealtimeRoute } from '../common/realtime.js';
import { createKafka } from '../../adapters/kafka/client.js';
import { DeadLetterWriter } from '../../adapters/kafka/dead-letter-writer.js';
import { loadConfiguredMapping } from '../../adapters/mapping-file/load.js';
import { systemClock } from '../../system/clock.js';
import type { Config } from '../../core/config.js';
import { RunControl } from '../../core/pipeline/control.js';
import type { DeadLetterSink } from '../../core/pipeline/pipeline.js';

export interface WriteOptions {
  config: string;
  catalog: string;
  logLevel?: string;
}

/** What `write` reads and where it writes; the CLI uses stdin, stdout and stderr. */
export interface WriteIo {
  input: NodeJS.ReadableStream;
  output: CommandOutput;
  logger: Logger;
}

async function readCatalog(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError([{ file: path, message: `cannot read the catalog: ${(err as Error).message}` }]);
  }
}

/** The catalog's streams with their Avro schemas; throws a ConnectorError naming what is wrong. */
async function streamSchemas(mapping: CompiledMapping, catalogPath: string, registryConfig: SchemaRegistryConfig | undefined): Promise<Map<string, Type>> {
  const streams = configuredStreams(await readCatalog(catalogPath), catalogPath, mapping.topics);
  const registry = registryConfig && createRegistryClient(registryConfig);
  try {
    return requireSchemas(mapping, await topicSchemas(mapping, registry, streams));
  } finally {
    await registry?.close();
  }
}

/** Where records that fail for good go: the configured dead-letter topic, or nowhere (the sync fails). */
async function deadLetterSinkFor(
  config: Config,
  logger: Logger,
  failSync: (error: ConnectorError) => void,
): Promise<{ sink: DeadLetterSink<AirbyteRecord>; close(): Promise<void> }> {
  const topic = config.delivery.dead_letter_topic;
  if (topic === undefined) {
    return {
      sink: {
        write({ event, error }) {
          const reason = `line ${event.message.line} (stream ${event.topic}) cannot be delivered and no delivery.dead_letter_topic is configured: ${describeError(error).message}`;
          const failure = new ConnectorError('RECORD_UNDELIVERABLE', reason, false, { cause: error });
          failSync(failure);
          return Promise.reject(failure);
        },
      },
      close: async () => {},
    };
  }
  const producer = createKafka(config.kafka, logger).producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const writer = new DeadLetterWriter(producer, topic, logger);
  return {
    // The record's data as JSON is the letter's value: what Airbyte sent, byte for byte as re-encoded.
    sink: writer.sinkFor((record: AirbyteRecord) => ({ key: null, value: record.data })),
    async close() {
      writer.stop();
      await producer.disconnect();
    },
  };
}

/** Runs destination mode to the end of the input; returns the exit code (0 once every record settled). */
export async function runWrite(options: WriteOptions, io: Partial<WriteIo> = {}): Promise<number> {
  const output = io.output ?? PROCESS_OUTPUT;
  const logger = io.logger ?? createLogger({ name: 'write', level: (options.logLevel ?? 'info') as 'info' });
  try {
    const config = await loadConfig(options.config);
    const mapping = await loadConfiguredMapping(config);
    const schemas = await streamSchemas(mapping, options.catalog, config.schema_registry);
    // An outage past delivery.outage_budget_ms, or a record that can be neither delivered nor
    // dead-lettered, fails the sync; an outage within the budget is waited out.
    const failure = new AbortController();
    const control = new RunControl();
    control.onFatal((error) => failure.abort(error));
    const engine = createDeliveryEngine(config, {}, undefined, { realtime: usesRealtimeRoute(mapping) });
    engine.onOutageBudgetExhausted((error) => control.fatal(error));
    const deadLetters = await deadLetterSinkFor(config, logger, (error) => control.fatal(error));
    try {
      await writeRecords({
        signal: failure.signal,
        input: io.input ?? process.stdin,
        emit: (line) => output.out(`${line}\n`),
        mapping,
        delivery: engine.lanes,
        deadLetters: deadLetters.sink,
        schemas,
        maxPending: config.delivery.max_pending,
        decodeRetry: retryPolicyOf(config.delivery),
        clock: systemClock,
        logger,
      });
    } finally {
      await deadLetters.close();
      await engine.close();
    }
    return 0;
  } catch (err) {
    return reportFatal(err, output);
  }
}
